using System.Globalization;
using System.Text.Json;
using Castra.Errors;
using Castra.Processes;
using Castra.Qmp;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Launch;

/// <summary>
/// Starts QEMU wired the way a shutdown needs it: daemonized with its pidfile, QMP socket and serial log in the
/// VM's directory (docs/state-layout.md), optionally a guest agent channel, then waits for the QMP greeting and
/// records the process start time in vm.json (which proves identity later, whatever the command line says).
/// </summary>
public sealed class VmLauncher
{
    public const string DefaultQemu = "qemu-system-x86_64";

    /// <summary>The throwaway overlay of an ephemeral VM's disk, in its directory (kept while a saved image needs it).</summary>
    internal const string OverlayName = "ephemeral.qcow2";

    public VmLauncher(StateRoot root, Text.Wording? wording = null)
    {
        Root = root;
        Wording = wording ?? Text.Wording.Neutral;
    }

    /// <summary>How the calling face spells the options its messages name.</summary>
    public Text.Wording Wording { get; }

    public StateRoot Root { get; }

    /// <exception cref="CastraException">Invalid input, VM running or shutting down, QEMU missing or failing.</exception>
    public async Task<VmInfo> StartAsync(string name, LaunchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(Wording);
        var vm = Root.Vm(name);
        vm.EnsureSocketPathsFit(Wording);

        // QEMU's option syntax ends a -qmp, -chardev or -drive value at a comma: a path with one would be cut there, and
        // the rest read as options. (Doubling commas would pass it, but the command-line identity tie reads the same
        // values back; refused until both agree.)
        if (new[] { vm.Directory, options.Disk is null ? null : Path.GetFullPath(options.Disk) }.FirstOrDefault(p => p is not null && p.Contains(',', StringComparison.Ordinal)) is { } comma)
        {
            throw new CastraException(ErrorIds.InvalidLaunchOptions, CastraErrorCategory.InvalidArgument,
                $"{comma} contains a comma, at which QEMU's options (-qmp, -chardev, -drive) would cut it: use a state root and a disk path without one.") { Target = name };
        }

        var qemu = ExternalCommand.Which(options.QemuPath ?? DefaultQemu) ?? throw new CastraException(
            ErrorIds.QemuNotInstalled, CastraErrorCategory.NotInstalled,
            $"QEMU ({options.QemuPath ?? DefaultQemu}) was not found. On Debian: apt-get install qemu-system-x86 qemu-utils; or give {Wording.Name(Text.Term.QemuPath)}.")
        { Target = name };
        var files = new[] { options.Kernel, options.Initrd, options.Disk }.Where(f => f is not null).Select(f => Path.GetFullPath(f!)).ToList();
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            throw new CastraException(ErrorIds.LaunchFileNotFound, CastraErrorCategory.ObjectNotFound, $"{missing} does not exist.") { Target = name };
        }

        using var dir = OpenTrusted(vm);

        // Hold the VM's lock while starting: a shutdown cannot begin half-way through a launch, and a launch cannot
        // slip in while a shutdown runs (nothing respawns during an intentional shutdown).
        using var vmLock = StateCall(vm, () => VmLock.TryAcquire(dir)) ?? throw VmBusy.Refusal(dir, "it cannot be started");
        await RefuseIfRunningAsync(dir, cancellationToken).ConfigureAwait(false);
        LeftoverFiles.RemoveFor(dir, null);
        SavedStateStore.Abandon(dir);
        StateCall(vm, () => dir.Files.Delete(VmDirectory.SerialLogName));

        // The command line is decided before anything is created, so that a saved image can be matched against it. A start
        // from a record keeps the format probed at the first launch (LaunchRecord.DiskFormat): whoever can write the image
        // must not turn it into a qcow2 backed by a host file between two starts.
        var overlay = options.Ephemeral ? Path.Combine(vm.Directory, OverlayName) : null;
        var baseFormat = options.Disk is null ? null : options.DiskFormat ?? await ProbeFormatAsync(Path.GetFullPath(options.Disk), cancellationToken).ConfigureAwait(false);
        if (overlay is not null)
        {
            baseFormat ??= "raw";
        }

        var diskFormat = overlay is not null ? "qcow2" : baseFormat;
        var arguments = BuildArguments(vm, options, overlay, diskFormat);
        var resume = SavedStateResume.Decide(dir, qemu, arguments, options, Wording);
        if (overlay is not null && !resume)
        {
            await CreateOverlayAsync(vm, overlay, Path.GetFullPath(options.Disk!), baseFormat!, cancellationToken).ConfigureAwait(false);
        }

        ExternalCommand.Result result;
        try
        {
            // Resuming: the same command line, QEMU waiting for the state (-incoming defer) instead of booting.
            result = await ExternalCommand.RunAsync(qemu, resume ? [.. arguments, "-incoming", "defer"] : arguments, options.ReadyTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or System.ComponentModel.Win32Exception)
        {
            if (!resume)
            {
                DeleteQuietly(overlay);
            }

            throw new CastraException(ErrorIds.LaunchFailed, CastraErrorCategory.OperationTimeout, $"QEMU did not start: {ex.Message}", ex) { Target = name };
        }

        if (result.ExitCode != 0)
        {
            if (!resume)
            {
                DeleteQuietly(overlay);
            }

            throw new CastraException(ErrorIds.LaunchFailed, CastraErrorCategory.InvalidOperation, Explain(result.Stderr, result.ExitCode, options, Wording)) { Target = name };
        }

        var pid = ReadLaunchedPid(dir);
        await WaitForGreetingAsync(vm, options.ReadyTimeout, cancellationToken).ConfigureAwait(false);
        if (resume)
        {
            await SavedStateResume.LoadAsync(dir, pid, options, Wording, cancellationToken).ConfigureAwait(false);
        }

        var definition = VmDefinitionStore.ReadOrNull(dir) ?? new VmDefinition();
        definition.Name = name;
        definition.CooperativeTimeoutSeconds = options.CooperativeTimeoutSeconds ?? definition.CooperativeTimeoutSeconds;
        definition.TermTimeoutSeconds = options.TermTimeoutSeconds ?? definition.TermTimeoutSeconds;
        definition.KillTimeoutSeconds = options.KillTimeoutSeconds ?? definition.KillTimeoutSeconds;
        definition.ShutdownOrder = options.ShutdownOrder ?? definition.ShutdownOrder;
        definition.Escalation = options.Escalation?.ToString() ?? definition.Escalation;
        definition.SaveTimeoutSeconds = options.SaveTimeoutSeconds ?? definition.SaveTimeoutSeconds;
        definition.ProcessStartTime = ProcStat.TryRead(pid)?.StartTime;
        definition.BootId = HostClock.BootId;
        definition.EphemeralOverlay = overlay;
        definition.Launch = new LaunchRecord
        {
            Kernel = options.Kernel is null ? null : Path.GetFullPath(options.Kernel),
            Initrd = options.Initrd is null ? null : Path.GetFullPath(options.Initrd),
            Append = options.Append,
            Disk = options.Disk is null ? null : Path.GetFullPath(options.Disk),
            DiskFormat = baseFormat,
            Ephemeral = options.Ephemeral,
            MemoryMB = options.MemoryMB,
            CpuCount = options.CpuCount,
            GuestAgent = options.GuestAgent,
            Accelerator = options.Accelerator,
            Qemu = qemu,
            LaunchedAt = DateTime.UtcNow,
            Arguments = [.. arguments],
            ExtraArguments = [.. options.ExtraArguments],
        };
        StateCall(vm, () =>
        {
            VmDefinitionStore.Write(dir, definition);
            return true;
        });

        return await VmInventory.DescribeAsync(vm, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the VM again from the launch its vm.json records (Start-CastraVm NAME, castra up NAME), with
    /// <paramref name="overrides"/> applied; everything else (the lock, the running check, the wait for QMP, the new
    /// record) is <see cref="StartAsync"/>'s.
    /// </summary>
    /// <exception cref="CastraException">As <see cref="RecordedLaunch.Read"/> and <see cref="StartAsync"/>.</exception>
    public Task<VmInfo> StartRecordedAsync(string name, LaunchOverrides? overrides = null, CancellationToken cancellationToken = default) =>
        StartAsync(name, RecordedLaunch.Read(Root, name, overrides, Wording), cancellationToken);

    /// <summary>QEMU's command line for this VM (exposed for tests and --dry-run style inspection).</summary>
    public static IReadOnlyList<string> BuildArguments(VmPaths vm, LaunchOptions options, string? overlay, string? diskFormat)
    {
        var args = new List<string>
        {
            "-name", vm.Name,
            "-daemonize",
            "-pidfile", vm.PidFile,
            "-qmp", $"unix:{vm.QmpSocket},server=on,wait=off",
            "-serial", $"file:{Path.Combine(vm.Directory, "serial.log")}",
            "-display", "none",
            "-nodefaults",
            "-no-reboot",
            "-m", options.MemoryMB.ToString(CultureInfo.InvariantCulture),
            "-smp", options.CpuCount.ToString(CultureInfo.InvariantCulture),
        };

        args.AddRange(options.Accelerator switch
        {
            "kvm" => ["-accel", "kvm"],
            "tcg" => ["-accel", "tcg"],
            _ => KvmUsable() ? ["-accel", "kvm", "-accel", "tcg"] : ["-accel", "tcg"],
        });

        if (options.Kernel is not null)
        {
            args.AddRange(["-kernel", Path.GetFullPath(options.Kernel)]);
            if (options.Initrd is not null)
            {
                args.AddRange(["-initrd", Path.GetFullPath(options.Initrd)]);
            }

            if (options.Append is not null)
            {
                args.AddRange(["-append", options.Append]);
            }
        }

        if (options.Disk is not null)
        {
            var file = overlay ?? Path.GetFullPath(options.Disk);
            args.AddRange(["-drive", diskFormat is null ? $"file={file},if=virtio" : $"file={file},if=virtio,format={diskFormat}"]);
        }

        if (options.GuestAgent)
        {
            args.AddRange([
                "-device", "virtio-serial",
                "-chardev", $"socket,path={vm.AgentSocket},server=on,wait=off,id=qga0",
                "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
            ]);
        }

        args.AddRange(options.ExtraArguments);
        return args;
    }

    private static bool KvmUsable()
    {
        try
        {
            using var kvm = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// QEMU, run by this user (root at boot), opens its pidfile, socket and serial log by path: so the directory it
    /// writes into must belong to root or the caller and be writable by no one else, where nobody can plant a link for
    /// QEMU to write through.
    /// </summary>
    private static VmDirectory OpenTrusted(VmPaths vm)
    {
        var dir = StateCall(vm, () => VmDirectory.OpenOrCreate(vm));
        if (!dir.Files.Controlled)
        {
            var why = dir.Files.OwnerTrusted ? dir.Files.WritableByOthersText : FileTrust.Untrusted(dir.Files.Owner);
            dir.Dispose();
            throw StateFileError.For(vm, new UnsafeStateFileException(vm.Directory,
                why + "; Castra launches QEMU only into a directory owned by root or the user running it, and writable by no one else"));
        }

        return dir;
    }

    private static T StateCall<T>(VmPaths vm, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (IOException ex)
        {
            throw StateFileError.For(vm, ex);
        }
    }

    private async Task RefuseIfRunningAsync(VmDirectory dir, CancellationToken cancellationToken)
    {
        var vm = dir.Paths;
        var located = await ProcessLocator.LocateAsync(dir, VmDefinitionStore.ReadOrNull(dir), usePidfd: true, cancellationToken).ConfigureAwait(false);
        using var process = located.Process;
        if (located.Verdict == IdentityVerdict.Verified)
        {
            throw new CastraException(ErrorIds.VmAlreadyRunning, CastraErrorCategory.InvalidOperation,
                $"VM '{vm.Name}' is already running (PID {located.Pid}); stop it first ({Wording.StopCommand(vm.Name)}).") { Target = vm.Name };
        }

        if (located.Verdict == IdentityVerdict.Disputed)
        {
            // Maybe the VM's QEMU under an unproven name, maybe an impostor: a second QEMU on the same disk would be worse.
            throw new CastraException(ErrorIds.IdentityDisputed, CastraErrorCategory.SecurityError,
                $"VM '{vm.Name}' cannot be started: {located.Detail}.") { Target = vm.Name };
        }
    }

    private async Task CreateOverlayAsync(VmPaths vm, string overlay, string disk, string format, CancellationToken cancellationToken)
    {
        var qemuImg = ExternalCommand.Which("qemu-img") ?? throw new CastraException(ErrorIds.QemuNotInstalled, CastraErrorCategory.NotInstalled,
            $"qemu-img was not found (needed for {Wording.Name(Text.Term.Ephemeral)}). On Debian: apt-get install qemu-utils.") { Target = vm.Name };
        DeleteQuietly(overlay);
        var result = await ExternalCommand.RunAsync(qemuImg, ["create", "-q", "-f", "qcow2", "-b", disk, "-F", format, overlay], TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new CastraException(ErrorIds.LaunchFailed, CastraErrorCategory.InvalidOperation, $"qemu-img could not create the ephemeral overlay: {result.Stderr.Trim()}") { Target = vm.Name };
        }
    }

    private static async Task<string?> ProbeFormatAsync(string disk, CancellationToken cancellationToken)
    {
        if (ExternalCommand.Which("qemu-img") is not { } qemuImg)
        {
            return null;
        }

        var result = await ExternalCommand.RunAsync(qemuImg, ["info", "--output=json", "-U", disk], TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            return null;
        }

        using var info = JsonDocument.Parse(result.Stdout);
        return info.RootElement.TryGetProperty("format", out var format) ? format.GetString() : null;
    }

    private int ReadLaunchedPid(VmDirectory dir) =>
        PidFile.Read(dir).Pid ?? throw new CastraException(ErrorIds.LaunchFailed, CastraErrorCategory.InvalidOperation,
            $"QEMU reported success but left no usable pidfile at {dir.Paths.PidFile}; is {Wording.Name(Text.Term.QemuPath)} really QEMU?") { Target = dir.Name };

    private static async Task WaitForGreetingAsync(VmPaths vm, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        QmpException? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var qmp = await QmpClient.ConnectAsync(vm.QmpSocket, QmpTimeouts.Default, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (QmpException ex)
            {
                // Not up yet (no socket, refused) or not answering yet: retry until the launch's own deadline.
                last = ex;
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new CastraException(ErrorIds.LaunchFailed, CastraErrorCategory.OperationTimeout,
            $"QEMU started but its QMP socket did not answer within {timeout.TotalSeconds:0} s ({last?.Message}).") { Target = vm.Name };
    }

    private static string Explain(string stderr, int exitCode, LaunchOptions options, Text.Wording wording)
    {
        var text = stderr.Trim();
        if (text.Contains("KVM", StringComparison.OrdinalIgnoreCase) && options.Accelerator != "tcg")
        {
            return $"QEMU could not use KVM ({text}). Use {wording.Name(Text.Term.SoftwareEmulation)} for software emulation, or give this user access to /dev/kvm.";
        }

        return $"QEMU exited with code {exitCode} before the VM was up: {(text.Length > 0 ? text : "(no message)")}";
    }


    private static void DeleteQuietly(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

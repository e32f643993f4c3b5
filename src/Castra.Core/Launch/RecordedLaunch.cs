using Castra.Errors;
using Castra.State;

namespace Castra.Launch;

/// <summary>
/// Turns the launch recorded in a VM's vm.json back into <see cref="LaunchOptions"/> (Start-CastraVm NAME, castra up
/// NAME, Restart-CastraVm). vm.json is input someone may have edited or planted: only a file that proves its owner
/// (root or the caller, single link, writable by no one else, in a directory owned by root or the caller and writable
/// by no one else) may name the kernel, disk, QEMU
/// binary and arguments Castra runs, and every recorded value passes the same validation as a typed-in one.
/// </summary>
public static class RecordedLaunch
{
    /// <summary>The recorded definition of <paramref name="name"/>, with <paramref name="overrides"/> applied.</summary>
    /// <exception cref="CastraException">
    /// CastraVmNotFound (no such VM directory), CastraVmDefinitionInvalid (damaged vm.json or unusable record),
    /// CastraVmDefinitionUntrusted (foreign-owned), CastraNoLaunchDefinition (nothing recorded), CastraUnsafeStateFile.
    /// </exception>
    public static LaunchOptions Read(StateRoot root, string name, LaunchOverrides? overrides = null, Text.Wording? wording = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var w = wording ?? Text.Wording.Neutral;
        var vm = root.Vm(name);
        VmDefinition? definition;
        try
        {
            using var dir = VmDirectory.TryOpen(vm) ?? throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound,
                $"No VM named '{vm.Name}' under {root.Path}: give {w.Name(Text.Term.Kernel)} or {w.Name(Text.Term.Disk)} to start a new one.") { Target = vm.Name };
            definition = VmDefinitionStore.TryRead(dir);
        }
        catch (IOException ex)
        {
            throw StateFileError.For(vm, ex);
        }

        if (definition?.Launch is not { } record)
        {
            throw new CastraException(ErrorIds.NoLaunchDefinition, CastraErrorCategory.ObjectNotFound,
                $"VM '{vm.Name}' has no recorded launch in {vm.Definition} (it was not started by Castra): start it from explicit arguments first ({w.StartCommand(vm.Name)} {w.Name(Text.Term.Kernel)} ... or {w.Name(Text.Term.Disk)} ...).") { Target = vm.Name };
        }

        if (!definition.OwnerTrusted)
        {
            // Whoever wrote it would choose the binary, kernel and arguments this user (root at boot) runs.
            throw new CastraException(ErrorIds.VmDefinitionUntrusted, CastraErrorCategory.SecurityError,
                $"{vm.Definition} (or its directory) is not owned by root or the user running Castra, or others may write it, so its recorded launch is not run; " +
                $"check the file, or start the VM from explicit arguments ({w.StartCommand(vm.Name)} {w.Name(Text.Term.Kernel)} ... or {w.Name(Text.Term.Disk)} ...).") { Target = vm.Name };
        }

        return ToOptions(vm, record, overrides ?? LaunchOverrides.None, w);
    }

    /// <exception cref="CastraException">CastraVmDefinitionInvalid: the record cannot be started as it stands.</exception>
    internal static LaunchOptions ToOptions(VmPaths vm, LaunchRecord record, LaunchOverrides overrides, Text.Wording wording)
    {
        // The record holds absolute paths (castra up wrote them so); a relative one would resolve against whatever
        // directory the caller happens to be in.
        foreach (var (field, value) in new[] { ("Kernel", record.Kernel), ("Initrd", record.Initrd), ("Disk", record.Disk) })
        {
            if (value is not null && (value.Length == 0 || !Path.IsPathFullyQualified(value) || value.Contains('\0', StringComparison.Ordinal)))
            {
                throw Invalid(vm, $"Launch.{field} is not an absolute path");
            }
        }

        var extra = overrides.ExtraArguments ?? record.ExtraArguments ?? [];
        if (record.Append?.Contains('\0', StringComparison.Ordinal) == true || extra.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal))
            || record.Qemu?.Contains('\0', StringComparison.Ordinal) == true || record.Accelerator?.Contains('\0', StringComparison.Ordinal) == true)
        {
            throw Invalid(vm, "it holds a NUL character");
        }

        var options = new LaunchOptions
        {
            Kernel = record.Kernel,
            Initrd = record.Initrd,
            Append = record.Append,
            Disk = record.Disk,
            DiskFormat = record.DiskFormat,
            Ephemeral = record.Ephemeral,
            MemoryMB = overrides.MemoryMB ?? record.MemoryMB,
            CpuCount = overrides.CpuCount ?? record.CpuCount,
            GuestAgent = overrides.GuestAgent ?? record.GuestAgent,

            // Null keeps what vm.json holds (the launcher merges); a given value replaces it there too.
            CooperativeTimeoutSeconds = overrides.CooperativeTimeoutSeconds,
            TermTimeoutSeconds = overrides.TermTimeoutSeconds,
            KillTimeoutSeconds = overrides.KillTimeoutSeconds,
            ShutdownOrder = overrides.ShutdownOrder,
            Escalation = overrides.Escalation,
            SaveTimeoutSeconds = overrides.SaveTimeoutSeconds,
            DiscardSavedState = overrides.DiscardSavedState,
            QemuPath = overrides.QemuPath ?? (string.IsNullOrEmpty(record.Qemu) ? null : record.Qemu),
            Accelerator = overrides.Accelerator ?? (string.IsNullOrEmpty(record.Accelerator) ? "auto" : record.Accelerator),
            ExtraArguments = [.. extra],
        };

        try
        {
            options.Validate(wording);
        }
        catch (CastraException ex) when (ex.ErrorId == ErrorIds.InvalidLaunchOptions && overrides == LaunchOverrides.None)
        {
            throw Invalid(vm, ex.Message);
        }

        return options;
    }

    private static CastraException Invalid(VmPaths vm, string why) =>
        new(ErrorIds.VmDefinitionInvalid, CastraErrorCategory.InvalidData, $"{vm.Definition} records a launch that cannot be started: {why}.") { Target = vm.Name };
}

namespace Castra.State;

/// <summary>
/// A VM's directory, <c>&lt;root&gt;/vms/&lt;name&gt;/</c>, opened once per operation without following a link at
/// <c>vms</c> or at the VM's name, and then the only way Castra reaches the files in it (<see cref="StateDirectory"/>).
/// The directory itself may belong to another user (a bring-your-own QEMU): what is in it is read as that user's
/// input, and Castra writes only files it owns (docs/state-layout.md, trust model).
/// </summary>
internal sealed class VmDirectory : IDisposable
{
    public const string PidFileName = "qemu.pid";
    public const string QmpSocketName = "qmp.sock";
    public const string AgentSocketName = "qga.sock";
    public const string DefinitionName = "vm.json";
    public const string StatusName = "shutdown.json";
    public const string JournalName = "events.ndjson";
    public const string LockName = "lock";
    public const string SerialLogName = "serial.log";
    public const string HooksDirectoryName = "hooks";
    public const string SessionsDirectoryName = "sessions";

    private VmDirectory(VmPaths paths, StateDirectory files)
    {
        Paths = paths;
        Files = files;
    }

    public VmPaths Paths { get; }

    public string Name => Paths.Name;

    public StateDirectory Files { get; }

    /// <summary>Null when the state root, <c>vms</c> or the VM's directory does not exist.</summary>
    /// <exception cref="UnsafeStateFileException"><c>vms</c> or the VM's directory is a link or not a directory.</exception>
    public static VmDirectory? TryOpen(VmPaths vm)
    {
        using var root = StateDirectory.OpenPath(vm.Root.Path, create: false);
        using var vms = root?.OpenSubdirectory("vms", create: false);
        var dir = vms?.OpenSubdirectory(vm.Name, create: false);
        return dir is null ? null : new VmDirectory(vm, dir);
    }

    /// <summary>Opens the VM's directory, creating the root, <c>vms</c> and it as needed (castra up, sessions).</summary>
    public static VmDirectory OpenOrCreate(VmPaths vm)
    {
        using var root = StateDirectory.OpenPath(vm.Root.Path, create: true)!;
        using var vms = root.OpenSubdirectory("vms", create: true)!;
        return new VmDirectory(vm, vms.OpenSubdirectory(vm.Name, create: true)!);
    }

    /// <summary><c>hooks/</c> (0700, must be owned by root or the caller): per-run hook logs.</summary>
    public StateDirectory OpenHooks() =>
        Files.OpenSubdirectory(HooksDirectoryName, create: true, StateDirectory.PrivateDirectoryMode, requireTrustedOwner: true)!;

    /// <summary><c>sessions/</c> (0700, must be owned by root or the caller); null when absent and not created.</summary>
    public StateDirectory? OpenSessions(bool create) =>
        Files.OpenSubdirectory(SessionsDirectoryName, create, StateDirectory.PrivateDirectoryMode, requireTrustedOwner: true);

    /// <summary>A path to a socket in this directory that connect(2) reaches through the open descriptor.</summary>
    public string SocketPath(string name) => Files.ProcPath(name);

    /// <summary>True when <paramref name="name"/> exists and is a socket (a link or anything else is not).</summary>
    public bool HasSocket(string name) => Files.Stat(name) is { IsSocket: true };

    public void Dispose() => Files.Dispose();
}

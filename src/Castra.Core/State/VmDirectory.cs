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
    public const string SerialLogName = "serial.log";
    public const string HooksDirectoryName = "hooks";
    public const string SessionsDirectoryName = "sessions";

    private VmDirectory(VmPaths paths, StateDirectory root, StateDirectory files)
    {
        Paths = paths;
        Root = root;
        Files = files;
    }

    /// <summary>The state root, held open with the VM's directory: the VM's lock lives in its <c>locks/</c>.</summary>
    public StateDirectory Root { get; }

    public VmPaths Paths { get; }

    public string Name => Paths.Name;

    public StateDirectory Files { get; }

    /// <summary>Null when the state root, <c>vms</c> or the VM's directory does not exist.</summary>
    /// <exception cref="UnsafeStateFileException">
    /// The state root or <c>vms</c> is not owned by root or the caller or is writable by others; <c>vms</c> or the VM's
    /// directory is a link or not a directory.
    /// </exception>
    public static VmDirectory? TryOpen(VmPaths vm) => Open(vm, create: false);

    /// <summary>Opens the VM's directory, creating the root, <c>vms</c> and it as needed (castra up, sessions).</summary>
    public static VmDirectory OpenOrCreate(VmPaths vm) => Open(vm, create: true)!;

    private static VmDirectory? Open(VmPaths vm, bool create)
    {
        var root = StateDirectory.OpenPath(vm.Root.Path, create);
        if (root is null)
        {
            return null;
        }

        try
        {
            root.RequireControlled();
            using var vms = root.OpenSubdirectory("vms", create)?.RequireControlled();
            var dir = vms?.OpenSubdirectory(vm.Name, create);
            if (dir is null)
            {
                root.Dispose();
                return null;
            }

            return new VmDirectory(vm, root, dir);
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>&lt;root&gt;/locks/</c> (0700, controlled like the root): the VMs' locks live here, not in their own directories,
    /// where whoever owns a VM's directory could rename its lock away in the middle of a run and let a second owner in.
    /// </summary>
    public StateDirectory OpenLocks() =>
        Root.OpenSubdirectory(LocksDirectoryName, create: true, StateDirectory.PrivateDirectoryMode, requireTrustedOwner: true)!.RequireControlled();

    public const string LocksDirectoryName = "locks";

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

    public void Dispose()
    {
        Files.Dispose();
        Root.Dispose();
    }
}

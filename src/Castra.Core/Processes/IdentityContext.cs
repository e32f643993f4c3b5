using Castra.State;

namespace Castra.Processes;

/// <summary>
/// What a VM offers to tie a process to it, for one identity check: its paths, its vm.json (and whether that file is
/// trusted), and the listening sockets bound to its qmp.sock, looked up once and only when a proof needs them.
/// </summary>
internal sealed class IdentityContext
{
    private readonly Lazy<ListenerSet?> _listeners;

    /// <param name="definition">
    /// vm.json, if any. Its start time proves identity only when <see cref="VmDefinition.OwnerTrusted"/> (owned by root
    /// or by the user running Castra): a file anyone else could have written would let them point Castra at any
    /// process whose start time they copied. A definition not read from the VM's directory is untrusted.
    /// </param>
    /// <param name="dir">The VM's open directory: qmp.sock is examined and reached through it (no path re-walked, no
    /// 107-byte sun_path limit). Null only where no directory is open (tests of the proofs themselves).</param>
    public IdentityContext(VmPaths vm, VmDefinition? definition, VmDirectory? dir = null)
    {
        Vm = vm;
        Definition = definition;
        Dir = dir;
        _listeners = new Lazy<ListenerSet?>(() => SocketListeners.Find(QmpNode, vm.QmpSocket), LazyThreadSafetyMode.None);
    }

    public VmPaths Vm { get; }

    public VmDirectory? Dir { get; }

    /// <summary>qmp.sock's file (lstat: a link is not a socket); null when there is no socket there.</summary>
    public SocketNode? QmpNode => Dir is { } dir
        ? dir.Files.Stat(VmDirectory.QmpSocketName) is { IsSocket: true } stat ? SocketNode.Of(stat) : null
        : SocketNode.TryGet(Vm.QmpSocket);

    /// <summary>The path connect(2) uses for qmp.sock: through the open directory when there is one.</summary>
    public string QmpConnectPath => Dir?.SocketPath(VmDirectory.QmpSocketName) ?? Vm.QmpSocket;

    public VmDefinition? Definition { get; }

    public bool DefinitionTrusted => Definition?.OwnerTrusted == true;

    /// <summary>The listeners bound to the VM's qmp.sock (empty: none; null: the kernel could not be asked).</summary>
    public ListenerSet? QmpListeners => _listeners.Value;

    /// <summary>True when vm.json's recorded start time and boot id are this process's (trusted or not).</summary>
    public bool StartTimeMatches(ProcStat stat) =>
        Definition?.ProcessStartTime is { } recorded && recorded == stat.StartTime
        && Definition.BootId is { } boot && string.Equals(boot, HostClock.BootId, StringComparison.Ordinal);

    /// <summary>True when the process holds a listener bound to the VM's qmp.sock; null when that cannot be known.</summary>
    public bool? HoldsQmpListener(int pid) => QmpListeners is { } set ? set.Inodes.Count > 0 && FdTable.Holds(pid, set.Inodes) : null;
}

namespace Castra.Shutdown;

/// <summary>
/// What a shutdown found when it looked for the VM's QEMU (ShutdownComplete.QemuFound, and the audit line): so a
/// QEMU that had died on its own before the call is on record as such, not as one Castra stopped.
/// </summary>
public enum QemuFound
{
    /// <summary>Running, proven to be the VM's QEMU: the sequence acted on it.</summary>
    Running,

    /// <summary>No pidfile and nothing serving qmp.sock: the VM was not running.</summary>
    NotRunning,

    /// <summary>The pidfile named a QEMU that had already exited (crashed, or powered off by itself) before this call.</summary>
    Exited,

    /// <summary>The pidfile named a live process with no tie to the VM (stale, a recycled PID): nothing was signalled.</summary>
    Stale,

    /// <summary>Proofs disagreed about which process is the VM's QEMU: nothing was signalled.</summary>
    Disputed,
}

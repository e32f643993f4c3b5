namespace Castra.Events;

/// <summary>
/// Restart-CastraVm / castra restart: the VM was started again from its recorded definition after its shutdown.
/// It follows that shutdown's ShutdownComplete in the same stream, with the same ShutdownId and the next Sequence.
/// Not journaled: the journal holds shutdowns; the start is recorded in vm.json (a new process start time).
/// </summary>
public sealed record StartedEvent() : ShutdownEvent(EventTypes.Started)
{
    /// <summary>The new QEMU's process id.</summary>
    public int? Pid { get; init; }

    /// <summary>From ShutdownComplete to QEMU answering on QMP (launch, daemonize, greeting).</summary>
    public long StartMs { get; init; }
}

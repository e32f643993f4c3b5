namespace Castra.Events;

/// <summary>Always the last event of a shutdown.</summary>
public sealed record ShutdownCompleteEvent() : ShutdownEvent(EventTypes.ShutdownComplete)
{
    /// <summary>Graceful, Forced, Failed or Cancelled.</summary>
    public string Outcome { get; init; } = "";

    /// <summary>From the start of this VM's run (lock taken, just before ShutdownRequested) to this event.</summary>
    public long TotalMs { get; init; }

    /// <summary>False when there was nothing to do (already stopped, stale pidfile).</summary>
    public bool Changed { get; init; }

    /// <summary>Registered hooks (not Castra's own steps) that exited 0.</summary>
    public int HooksSucceeded { get; init; }

    public int HooksFailed { get; init; }

    public int HooksTimedOut { get; init; }

    /// <summary>Guest sessions of this VM that were interrupted (SIGINT, then SIGTERM/SIGKILL for survivors).</summary>
    public int SessionsInterrupted { get; init; }

    /// <summary>The debug snapshot written with -SaveState (--save-state), if any.</summary>
    public string? SaveStatePath { get; init; }

    /// <summary>
    /// What the run found of the VM's QEMU: Running (it acted on it), NotRunning, Exited (had died on its own before
    /// the call), Stale, Disputed. Absent when the run ended before it looked (a failure, a cancellation).
    /// </summary>
    public string? QemuFound { get; init; }

    /// <summary>Why it failed, or what was found (e.g. a stale pidfile that was removed).</summary>
    public string? Detail { get; init; }
}

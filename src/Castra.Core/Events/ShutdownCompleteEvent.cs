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

    /// <summary>Why it failed, or what was found (e.g. a stale pidfile that was removed).</summary>
    public string? Detail { get; init; }
}

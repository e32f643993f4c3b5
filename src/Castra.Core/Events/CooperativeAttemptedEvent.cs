namespace Castra.Events;

/// <summary>The guest is being asked to power itself off (or the step is recorded as impossible/skipped).</summary>
public sealed record CooperativeAttemptedEvent() : ShutdownEvent(EventTypes.CooperativeAttempted)
{
    /// <summary>ACPI, Agent, Unavailable (no channel) or None (skipped by the caller).</summary>
    public string Method { get; init; } = "";

    /// <summary>How long the guest is given; 0 when nothing will be waited for.</summary>
    public long TimeoutMs { get; init; }

    /// <summary>Why this channel was chosen when it is not the obvious one (agent not answering, agent failed mid-way, guest paused).</summary>
    public string? Detail { get; init; }
}

namespace Castra.Events;

/// <summary>The QEMU process exited within the cooperative window: no signal was sent.</summary>
public sealed record CooperativeSucceededEvent() : ShutdownEvent(EventTypes.CooperativeSucceeded)
{
    /// <summary>The channel that worked (ACPI or Agent).</summary>
    public string Method { get; init; } = "";

    /// <summary>From the request being sent to the process being gone.</summary>
    public long DurationMs { get; init; }

    /// <summary>
    /// True when QEMU reported the guest powered itself off (QMP SHUTDOWN with guest=true); false when QEMU said
    /// the host ended it; absent when no QMP connection saw the event.
    /// </summary>
    public bool? GuestInitiated { get; init; }
}

namespace Castra.Events;

/// <summary>
/// The save did not complete: no image was kept and the guest was resumed where it could be. With the Save
/// escalation the signals follow; with a plain save (-Save, --save) the run ends Failed and the VM keeps running.
/// </summary>
public sealed record SaveFailedEvent() : ShutdownEvent(EventTypes.SaveFailed)
{
    /// <summary>TimeoutExpired, MigrationFailed, WriteError, ChannelError or NotResumable (<c>SaveFailureReason</c>).</summary>
    public string Reason { get; init; } = "";

    /// <summary>What exactly happened, e.g. QEMU's own error-desc ("No space left on device").</summary>
    public string? Detail { get; init; }

    /// <summary>From SaveAttempted to the failure.</summary>
    public long DurationMs { get; init; }

    /// <summary>Whether the guest runs again (a QMP <c>cont</c> after a failed save of a running guest).</summary>
    public bool GuestResumed { get; init; }
}

namespace Castra.Events;

/// <summary>A signal was sent to the (identity-checked) QEMU process.</summary>
public sealed record EscalationEvent() : ShutdownEvent(EventTypes.Escalation)
{
    /// <summary>SIGTERM or SIGKILL.</summary>
    public string Signal { get; init; } = "";

    /// <summary>How long Castra waits for the process to exit after this signal.</summary>
    public long WaitMs { get; init; }
}

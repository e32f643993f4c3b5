namespace Castra.Events;

/// <summary>Always the first event of a shutdown.</summary>
public sealed record ShutdownRequestedEvent() : ShutdownEvent(EventTypes.ShutdownRequested)
{
    /// <summary>One of the <see cref="Shutdown.ShutdownReason"/> names.</summary>
    public string Reason { get; init; } = "";

    public string? Message { get; init; }
}

namespace Castra.Events;

/// <summary>Always the first event of a shutdown.</summary>
public sealed record ShutdownRequestedEvent() : ShutdownEvent(EventTypes.ShutdownRequested)
{
    /// <summary>One of the <see cref="Shutdown.ShutdownReason"/> names.</summary>
    public string Reason { get; init; } = "";

    public string? Message { get; init; }

    /// <summary>
    /// The VM's shutdown order: the group it stopped in when the call ordered its VMs (lower orders stop first), else
    /// the order its vm.json records (0 when none).
    /// </summary>
    public int ShutdownOrder { get; init; }
}

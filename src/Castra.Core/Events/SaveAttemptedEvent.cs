namespace Castra.Events;

/// <summary>Castra paused the guest and began writing its whole state to the VM's saved image (the Save step).</summary>
public sealed record SaveAttemptedEvent() : ShutdownEvent(EventTypes.SaveAttempted)
{
    /// <summary>How long the save may take before it is abandoned (the save timeout).</summary>
    public long TimeoutMs { get; init; }

    /// <summary>Where the image goes once complete (<c>vms/&lt;name&gt;/saved-state.img</c>).</summary>
    public string Path { get; init; } = "";
}

namespace Castra.Events;

/// <summary>The guest's state is in the saved image and QEMU was told to quit: the run ends Saved.</summary>
public sealed record SaveSucceededEvent() : ShutdownEvent(EventTypes.SaveSucceeded)
{
    /// <summary>From SaveAttempted to the image being in place.</summary>
    public long DurationMs { get; init; }

    /// <summary>The image's size.</summary>
    public long SizeBytes { get; init; }

    public string Path { get; init; } = "";
}

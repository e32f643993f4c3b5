namespace Castra.State;

/// <summary>
/// <c>saved-state.json</c>: what a saved image was taken from. <see cref="Fingerprint"/> is the definition's
/// (<see cref="Launch.DefinitionFingerprint"/>): a start whose command line differs must not resume the image.
/// </summary>
public sealed class SavedStateRecord
{
    public string Fingerprint { get; set; } = "";

    public DateTime SavedAt { get; set; }

    /// <summary>The shutdown that saved it.</summary>
    public string? ShutdownId { get; set; }

    public long SizeBytes { get; set; }
}

namespace Castra.Hooks;

/// <summary>The content of <c>hooks.json</c>.</summary>
internal sealed class HookFile
{
    /// <summary>The format this Castra writes; a file from a newer Castra is refused rather than half understood.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;

    public List<CleanupHook> Hooks { get; set; } = [];
}

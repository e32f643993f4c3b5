namespace Castra.Hooks;

/// <summary>The content of <c>hooks.json</c>.</summary>
internal sealed class HookFile
{
    public List<CleanupHook> Hooks { get; set; } = [];
}

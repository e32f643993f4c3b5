using Castra.Hooks;

namespace Castra.Shutdown.Plan;

/// <summary>The VM's hooks for one shutdown, or why hooks.json could not be read (a warning, or a refusal under HookErrorAction Stop).</summary>
internal sealed record HookSelection(IReadOnlyList<CleanupHook> PreStop, IReadOnlyList<CleanupHook> PostStop, string? Failure = null)
{
    public static HookSelection None { get; } = new([], []);
}

namespace Castra.Hooks;

/// <summary>What was read from <c>hooks.json</c>: the usable hooks, and one line per entry that was ignored.</summary>
internal sealed record HookFileLoad(HookFile File, IReadOnlyList<string> Ignored);

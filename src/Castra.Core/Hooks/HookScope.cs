namespace Castra.Hooks;

/// <summary>The scope word of a hook that applies to every VM.</summary>
public static class HookScope
{
    public const string AllVms = "*";
}

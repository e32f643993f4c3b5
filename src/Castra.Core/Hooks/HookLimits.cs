namespace Castra.Hooks;

/// <summary>The ranges registration enforces (documented in docs/hooks.md).</summary>
public static class HookLimits
{
    public const int MinPriority = 0;
    public const int MaxPriority = 1000;

    /// <summary>0–10 are Castra's own steps (the session drain runs at 0).</summary>
    public const int MaxReservedPriority = 10;

    public const int DefaultPriority = 100;
    public const long DefaultTimeoutMs = 5_000;
    public const double MaxTimeoutSeconds = 86_400;
    public const int MaxNameLength = 64;

    /// <summary>Hook names starting with this are Castra's own (e.g. castra.drain-sessions in events).</summary>
    public const string ReservedPrefix = "castra.";
}

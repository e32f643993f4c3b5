namespace Castra.Hooks;

/// <summary>Counts of one or more stages' hook runs, and the first failure that should abort (HookErrorAction Stop).</summary>
internal sealed class HookStageSummary
{
    private readonly List<HookResult> _results = [];

    public IReadOnlyList<HookResult> Results => _results;

    public int Succeeded => _results.Count(r => r.Status == HookStatus.Succeeded);

    public int Failed => _results.Count(r => r.Status == HookStatus.Failed);

    public int TimedOut => _results.Count(r => r.Status == HookStatus.TimedOut);

    /// <summary>Set when a PreStop failure under HookErrorAction Stop ended the stage early.</summary>
    public HookResult? AbortedBy { get; set; }

    public void Add(HookResult result)
    {
        lock (_results)
        {
            _results.Add(result);
        }
    }
}

namespace Castra.Hooks;

/// <summary>Counts of one run's hook results, across its stages and priorities.</summary>
internal sealed class HookStageSummary
{
    private readonly List<HookResult> _results = [];

    public IReadOnlyList<HookResult> Results => _results;

    public int Succeeded => _results.Count(r => r.Status == HookStatus.Succeeded);

    public int Failed => _results.Count(r => r.Status == HookStatus.Failed);

    public int TimedOut => _results.Count(r => r.Status == HookStatus.TimedOut);

    public void Add(HookResult result)
    {
        lock (_results)
        {
            _results.Add(result);
        }
    }
}

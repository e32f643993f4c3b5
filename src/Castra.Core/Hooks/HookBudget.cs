using Castra.Processes;

namespace Castra.Hooks;

/// <summary>
/// The longest a stage's hooks can take: per priority, the longest timeout plus the grace of SIGTERM and of
/// SIGKILL to its group; priorities add up (they run one after another, a priority's hooks concurrently).
/// </summary>
internal static class HookBudget
{
    public static TimeSpan Of(IEnumerable<CleanupHook> hooks) =>
        hooks.GroupBy(h => h.Priority)
            .Select(g => TimeSpan.FromMilliseconds(g.Max(h => h.TimeoutMs)) + GroupLeader.Grace + GroupLeader.Grace)
            .Aggregate(TimeSpan.Zero, (a, b) => a + b);
}

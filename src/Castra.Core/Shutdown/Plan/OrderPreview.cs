using Castra.Errors;
using Castra.Events;

namespace Castra.Shutdown.Plan;

/// <summary>
/// Places each VM's plan in the call's shutdown order: its group, how long the groups before it may take, and the
/// worst case of the whole order (sum over the groups of each group's longest VM, in throttle batches, plus the delay
/// after every group but the last). -WhatIf, --dry-run and -Deadline all read these numbers; they are computed here only.
/// </summary>
internal static class OrderPreview
{
    /// <param name="orders">Each VM's recorded order.</param>
    /// <returns>The plans in the order their groups stop (the caller's order within a group).</returns>
    public static IReadOnlyList<VmShutdownPlan> Apply(IReadOnlyList<VmShutdownPlan> plans, IReadOnlyDictionary<string, int> orders, ShutdownOptions options, TimeSpan? deadline)
    {
        var names = plans.Select(p => p.VmName).ToList();
        var schedule = options.IgnoreOrder ? GroupSchedule.Single(names) : GroupSchedule.Of(names, n => orders[n]);
        var byName = plans.ToDictionary(p => p.VmName, StringComparer.Ordinal);
        var placed = new List<VmShutdownPlan>(plans.Count);
        long earlier = 0;
        foreach (var group in schedule.Groups)
        {
            var members = group.VmNames.Select(n => byName[n]).ToList();
            var start = earlier;
            placed.AddRange(members.Select(p => p with { Group = group.Position, ShutdownOrder = orders[p.VmName], EarlierGroupsMs = start }));
            earlier += GroupWorstCaseMs(members, options.ThrottleLimit);
            if (group.Position < schedule.Groups.Count)
            {
                earlier += Ms(options.GroupDelay);
            }
        }

        // The same sum as OrderWorstCaseMs (one rule for both): checked here so the two can never drift apart.
        System.Diagnostics.Debug.Assert(earlier == OrderWorstCaseMs(placed, options.ThrottleLimit, options.GroupDelay));
        return placed.Select(p => p with
        {
            OrderWorstCaseMs = earlier,
            ExceedsDeadline = deadline is { } d && p.EarlierGroupsMs + p.WorstCaseMs > d.TotalMilliseconds,
        }).ToList();
    }

    /// <summary>
    /// The worst case of a whole call from plans that carry their <see cref="VmShutdownPlan.Group"/>: over the groups in
    /// order, each group's <see cref="GroupWorstCaseMs"/>, plus <paramref name="groupDelay"/> after every group but the last.
    /// </summary>
    public static long OrderWorstCaseMs(IEnumerable<VmShutdownPlan> plans, int throttleLimit, TimeSpan groupDelay)
    {
        var groups = plans.GroupBy(p => p.Group).Select(g => GroupWorstCaseMs([.. g], throttleLimit)).ToList();
        return groups.Sum() + (groups.Count > 1 ? (groups.Count - 1) * Ms(groupDelay) : 0);
    }

    /// <summary>
    /// The longest a group can take: its longest VM, or with a throttle smaller than its VMs that have work to do,
    /// conservatively batches of the throttle size, each as long as the longest.
    /// </summary>
    public static long GroupWorstCaseMs(IReadOnlyList<VmShutdownPlan> members, int throttleLimit)
    {
        var busy = members.Where(p => p.WorstCaseMs > 0).ToList();
        if (busy.Count == 0)
        {
            return 0;
        }

        var batches = throttleLimit > 0 ? (busy.Count + throttleLimit - 1) / throttleLimit : 1;
        return batches * busy.Max(p => p.WorstCaseMs);
    }

    /// <summary>Null when the plans fit the deadline; otherwise the refusal, naming the VMs (CastraDeadlineExceeded).</summary>
    public static CastraException? DeadlineProblem(IReadOnlyList<VmShutdownPlan> plans, TimeSpan deadline, int throttleLimit)
    {
        var deadlineText = EventText.Seconds((long)deadline.TotalMilliseconds);
        var over = plans.Where(p => p.WorstCaseMs > deadline.TotalMilliseconds).ToList();
        if (over.Count > 0)
        {
            var list = string.Join(", ", over.Select(p => $"{p.VmName} ({EventText.Seconds(p.WorstCaseMs)})"));
            return new CastraException(ErrorIds.DeadlineExceeded, CastraErrorCategory.LimitsExceeded,
                $"The worst case of {list} exceeds the deadline of {deadlineText}; nothing was started. " +
                "Lower the cooperative, TERM or KILL timeouts, or raise the deadline.")
            {
                Target = string.Join(",", over.Select(p => p.VmName)),
            };
        }

        // Plans from Apply carry the order's worst case (delays included); the groups' own sum covers plans made elsewhere.
        var groups = plans.GroupBy(p => p.Group).OrderBy(g => g.Key).ToList();
        var total = Math.Max(plans.Count == 0 ? 0 : plans.Max(p => p.OrderWorstCaseMs), groups.Sum(g => GroupWorstCaseMs([.. g], throttleLimit)));
        if (total <= deadline.TotalMilliseconds)
        {
            return null;
        }

        if (groups.Count == 1)
        {
            var busy = plans.Where(p => p.WorstCaseMs > 0).ToList();
            return new CastraException(ErrorIds.DeadlineExceeded, CastraErrorCategory.LimitsExceeded,
                $"With a throttle of {throttleLimit}, {busy.Count} VMs may take up to {EventText.Seconds(total)}, past the deadline of " +
                $"{deadlineText}; nothing was started. Raise the throttle, lower the timeouts, or raise the deadline.")
            {
                Target = string.Join(",", busy.Select(p => p.VmName)),
            };
        }

        var late = plans.Where(p => p.ExceedsDeadline).Select(p => p.VmName).ToList();
        return new CastraException(ErrorIds.DeadlineExceeded, CastraErrorCategory.LimitsExceeded,
            $"The shutdown order ({Describe(plans)}) may take up to {EventText.Seconds(total)}, past the deadline of {deadlineText}; nothing was started. " +
            "Lower the timeouts or the group delay, stop the VMs regardless of their order, or raise the deadline.")
        {
            Target = string.Join(",", late.Count > 0 ? late : plans.Select(p => p.VmName)),
        };
    }

    /// <summary>The order in one line: "group 1 (order 0: web1, web2) ≤75s, group 2 (order 5: db) from ≤80s ≤75s".</summary>
    public static string Describe(IReadOnlyList<VmShutdownPlan> plans) => string.Join(", ", plans.GroupBy(p => p.Group).OrderBy(g => g.Key).Select(g =>
    {
        var first = g.First();
        var start = first.EarlierGroupsMs > 0 ? $" after ≤{EventText.Seconds(first.EarlierGroupsMs)}" : "";
        return $"group {g.Key} (order {first.ShutdownOrder}: {ShutdownGroup.List([.. g.Select(p => p.VmName)])}){start}";
    }));

    private static long Ms(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);
}

namespace Castra.Shutdown.Plan;

/// <summary>
/// One VM's shutdown as an explicit, ordered list of typed steps with their budgets, built once by
/// <see cref="ShutdownPlanBuilder"/> from what was found. The executor runs it; -WhatIf, --dry-run, -Deadline and
/// --deadline, the deadline in shutdown.json and the hook count read it.
/// </summary>
internal sealed record ShutdownPlan(string VmName, QemuFound Found, string FoundDetail, ShutdownTimeouts Timeouts, IReadOnlyList<PlanStep> Steps)
{
    /// <summary>The longest the run can take: every step's budget (the steps after QEMU is gone included).</summary>
    public TimeSpan WorstCase => Steps.Aggregate(TimeSpan.Zero, (total, step) => total + step.Budget);

    /// <summary>Registered hooks the run will run (not Castra's own session drain).</summary>
    public int HookCount => Steps.OfType<HookPhaseStep>().Sum(s => s.Hooks.Count);

    public IEnumerable<PlanStep> In(StepSection section) => Steps.Where(s => s.Section == section);
}

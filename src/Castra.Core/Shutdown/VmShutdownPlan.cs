using System.Text.Json.Serialization;

namespace Castra.Shutdown;

/// <summary>
/// What a shutdown of one VM would do, from a read-only pre-flight look (Stop-CastraVm -WhatIf, castra down
/// --dry-run): the channel it would use and why, the stage budgets and the worst-case duration. Flat and JSON-friendly.
/// </summary>
public sealed record VmShutdownPlan
{
    public string VmName { get; init; } = "";

    /// <summary>Running, Stopped, Stale, ShuttingDown, NotFound or Unknown.</summary>
    public string State { get; init; } = "";

    public int? Pid { get; init; }

    /// <summary>The cooperative channel it would use: ACPI, Agent, Unavailable or None (force); empty when nothing would be done.</summary>
    public string Method { get; init; } = "";

    /// <summary>Why: what the pre-flight saw (QMP answering, guest status, agent answering).</summary>
    public string Detail { get; init; } = "";

    /// <summary>query-status's answer when QMP answered (running, paused, …).</summary>
    public string? GuestStatus { get; init; }

    public long CooperativeTimeoutMs { get; init; }

    public long TermTimeoutMs { get; init; }

    public long KillTimeoutMs { get; init; }

    /// <summary>The longest the shutdown can take: the budgets of the stages it may go through.</summary>
    public long WorstCaseMs { get; init; }

    /// <summary>The save step's timeout, when the plan saves the guest (-Save, -Escalation Save); else null.</summary>
    public long? SaveTimeoutMs { get; init; }

    /// <summary>The stages in order, e.g. "ACPI power button (≤60s) → SIGTERM (≤10s) → SIGKILL (≤5s)".</summary>
    public string Steps { get; init; } = "";

    /// <summary>Castra's session drain and the cleanup hooks that would run, in order, e.g. "export (PreStop, priority 100, ≤5s)"; "none".</summary>
    public string Hooks { get; init; } = "";

    /// <summary>The VM's shutdown order (vm.json's ShutdownOrder; 0 when none is recorded).</summary>
    public int ShutdownOrder { get; init; }

    /// <summary>Which group of the call it stops in: 1 stops first (every VM is in group 1 when the call ignores the order).</summary>
    public int Group { get; init; } = 1;

    /// <summary>The longest its group may wait for the groups before it: their worst cases and the delays after them.</summary>
    public long EarlierGroupsMs { get; init; }

    /// <summary>The worst case of the whole call: over the groups in order, each group's longest VM (in batches under a throttle) plus the delay after it.</summary>
    public long OrderWorstCaseMs { get; init; }

    /// <summary>True when a deadline was given and <see cref="EarlierGroupsMs"/> + <see cref="WorstCaseMs"/> exceeds it.</summary>
    public bool ExceedsDeadline { get; init; }

    /// <summary>No such VM: a shutdown would report CastraVmNotFound.</summary>
    [JsonIgnore]
    public bool IsNotFound => State == nameof(Plan.PlanState.NotFound);

    /// <summary>A running VM with a session drain or hooks to show.</summary>
    [JsonIgnore]
    public bool HasHooks => State == nameof(Plan.PlanState.Running) && Hooks is { Length: > 0 } and not "none";
}

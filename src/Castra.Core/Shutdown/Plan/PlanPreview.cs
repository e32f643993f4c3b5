using Castra.Events;
using Castra.Hooks;
using Castra.State;

namespace Castra.Shutdown.Plan;

/// <summary>
/// A <see cref="ShutdownPlan"/> as -WhatIf, --dry-run and -Deadline show it: the flat, JSON-friendly
/// <see cref="VmShutdownPlan"/>. Its strings are produced here, once, from the plan's steps.
/// </summary>
internal static class PlanPreview
{
    public static VmShutdownPlan Of(ShutdownPlan plan, int? pid, HookSelection hooks, string? guestStatus, TimeSpan? deadline, Text.Wording wording)
    {
        var running = plan.Found == QemuFound.Running;
        var refusal = plan.Steps.OfType<FailStep>().FirstOrDefault();
        var cooperate = plan.Steps.OfType<CooperateStep>().FirstOrDefault();
        var save = plan.Steps.OfType<SaveStep>().FirstOrDefault();
        var stop = plan.In(StepSection.Stop).Select(s => s.Describe()).OfType<string>().ToList();
        var listed = plan.Steps.Where(s => s is DrainSessionsStep or HookPhaseStep).Select(s => s.Describe()).OfType<string>().ToList();
        if (hooks.Failure is { } unreadable && refusal is null)
        {
            listed.Add($"unreadable: {unreadable}");
        }

        var preview = new VmShutdownPlan
        {
            VmName = plan.VmName,
            State = (running ? PlanState.Running : plan.Found == QemuFound.NotRunning ? PlanState.Stopped : PlanState.Stale).ToString(),
            Pid = running ? pid : null,
            Method = cooperate is null ? "" : cooperate.Skipped ? ContractNames.Of(CooperativeChannel.None) : cooperate.Expected is { } e ? ContractNames.Of(e.Channel) : "",
            Detail = save is { Escalation: false } ? $"{wording.Name(Text.Term.Save)}: the guest would be paused and its whole state saved to {SavedStateStore.ImageName}, then QEMU ended; the next start resumes it" : Detail(plan, refusal, cooperate, hooks, guestStatus, wording),
            GuestStatus = guestStatus,
            CooperativeTimeoutMs = Ms(plan.Timeouts.Cooperative),
            TermTimeoutMs = Ms(plan.Timeouts.Term),
            KillTimeoutMs = Ms(plan.Timeouts.Kill),
            WorstCaseMs = Ms(plan.WorstCase),
            SaveTimeoutMs = save is null ? null : Ms(save.Timeout),
            Steps = stop.Count == 0 ? "none" : string.Join(" → ", stop),
            Hooks = listed.Count == 0 ? (running ? "none" : "") : string.Join("; ", listed),
        };
        return WithDeadline(preview, deadline);
    }

    /// <summary>Another caller is shutting the VM down: a new call would follow it, for as long as it has left.</summary>
    public static VmShutdownPlan Following(string vmName, int? pid, ShutdownTimeouts timeouts, ShutdownStatus? status, TimeSpan? deadline) =>
        WithDeadline(new VmShutdownPlan
        {
            VmName = vmName,
            State = nameof(PlanState.ShuttingDown),
            Pid = pid,
            CooperativeTimeoutMs = Ms(timeouts.Cooperative),
            TermTimeoutMs = Ms(timeouts.Term),
            KillTimeoutMs = Ms(timeouts.Kill),
            Detail = $"already being shut down by PID {status?.OwnerPid} (phase {status?.Phase}): a new call would follow it",
            WorstCaseMs = status?.RemainingMs ?? 0,
            Steps = "follow the running shutdown",
        }, deadline);

    private static string Detail(ShutdownPlan plan, FailStep? refusal, CooperateStep? cooperate, HookSelection hooks, string? guestStatus, Text.Wording wording)
    {
        switch (plan.Found)
        {
            case QemuFound.NotRunning:
                return "not running: nothing to do";
            case QemuFound.Disputed:
                return $"{plan.FoundDetail}; nothing would be signalled and the run would fail ({refusal?.ErrorId})";
            case QemuFound.Stale:
                return $"{plan.FoundDetail}; the stale pidfile would be removed, nothing signalled";
            case QemuFound.Exited:
                return plan.HookCount > 0
                    ? $"{plan.FoundDetail}; the stale pidfile would be removed, nothing signalled, and the PostStop hooks run"
                    : $"{plan.FoundDetail}; the stale pidfile would be removed, nothing signalled";
        }

        if (refusal is not null)
        {
            return $"{hooks.Failure}: the run would be refused before anything is sent to the guest ({HookErrorAction.Stop.ToString()} on hook errors)";
        }

        if (cooperate is null || cooperate.Skipped)
        {
            return $"{wording.Name(Text.Term.TurnOff)}: the cooperative step is skipped";
        }

        return cooperate.Expected switch
        {
            { Proceeds: false, Channel: CooperativeChannel.Unavailable } d => d.FailureDetail ?? "no cooperative channel",
            { Proceeds: false } d => $"the {ContractNames.Of(d.Channel)} channel is broken: {d.FailureDetail}",
            { Channel: CooperativeChannel.Agent } d => "the guest agent answered" + (d.AgentMayHandOverToAcpi ? "; ACPI is the fallback" : ""),
            { } d => $"QMP answers, guest {guestStatus}" + (d.AttemptDetail is null ? "" : $"; {d.AttemptDetail}"),
            null => "",
        };
    }

    private static VmShutdownPlan WithDeadline(VmShutdownPlan plan, TimeSpan? deadline) =>
        deadline is { } d ? plan with { ExceedsDeadline = plan.WorstCaseMs > d.TotalMilliseconds } : plan;

    private static long Ms(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);
}

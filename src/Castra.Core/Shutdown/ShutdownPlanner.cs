using Castra.Errors;
using Castra.Events;
using Castra.Hooks;
using Castra.Processes;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Computes, without changing anything, what a shutdown would do: the same pre-flight look as the real
/// cooperative step (<see cref="ChannelProbe"/>), the resolved budgets, and the worst-case duration, so an
/// operator can fit a shutdown into an outer budget (systemd, a UPS, Kubernetes) before starting it.
/// </summary>
public sealed class ShutdownPlanner
{
    public ShutdownPlanner(StateRoot root) => Root = root;

    public StateRoot Root { get; }

    /// <param name="deadline">When given, each plan says whether its worst case exceeds it.</param>
    public async Task<IReadOnlyList<VmShutdownPlan>> PlanAsync(IEnumerable<string> vmNames, ShutdownOptions options, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vmNames);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var plans = vmNames.Distinct(StringComparer.Ordinal).Select(name => PlanOneAsync(name, options, deadline, cancellationToken));
        return await Task.WhenAll(plans).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses, naming the VMs, when any worst case exceeds the deadline; with a throttle, also when the VMs that
    /// have work to do could queue past it (conservatively: batches of the throttle size, each as long as the longest).
    /// </summary>
    /// <exception cref="CastraException">ErrorId CastraDeadlineExceeded.</exception>
    public static void EnsureWithinDeadline(IReadOnlyList<VmShutdownPlan> plans, TimeSpan deadline, int throttleLimit = 0)
    {
        ArgumentNullException.ThrowIfNull(plans);
        var busy = plans.Where(p => p.WorstCaseMs > 0).ToList();
        if (throttleLimit > 0 && busy.Count > throttleLimit)
        {
            var batches = (busy.Count + throttleLimit - 1) / throttleLimit;
            var total = batches * busy.Max(p => p.WorstCaseMs);
            if (total > deadline.TotalMilliseconds)
            {
                throw new CastraException(ErrorIds.DeadlineExceeded, CastraErrorCategory.LimitsExceeded,
                    $"With a throttle of {throttleLimit}, {busy.Count} VMs may take up to {EventText.Seconds(total)}, past the deadline of " +
                    $"{EventText.Seconds((long)deadline.TotalMilliseconds)}; nothing was started. Raise the throttle, lower the timeouts, or raise the deadline.")
                {
                    Target = string.Join(",", busy.Select(p => p.VmName)),
                };
            }
        }

        var over = plans.Where(p => p.ExceedsDeadline).ToList();
        if (over.Count > 0)
        {
            var list = string.Join(", ", over.Select(p => $"{p.VmName} ({EventText.Seconds(p.WorstCaseMs)})"));
            throw new CastraException(ErrorIds.DeadlineExceeded, CastraErrorCategory.LimitsExceeded,
                $"The worst case of {list} exceeds the deadline of {EventText.Seconds((long)deadline.TotalMilliseconds)}; nothing was started. " +
                "Lower the cooperative, TERM or KILL timeouts, or raise the deadline.")
            {
                Target = string.Join(",", over.Select(p => p.VmName)),
            };
        }
    }

    /// <summary>One VM's plan; one VM that cannot be examined (a refused directory, a damaged file) never fails the others'.</summary>
    private async Task<VmShutdownPlan> PlanOneAsync(string name, ShutdownOptions options, TimeSpan? deadline, CancellationToken cancellationToken)
    {
        try
        {
            return await PlanOneUncheckedAsync(name, options, deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or CastraException or InvalidDataException)
        {
            return new VmShutdownPlan
            {
                VmName = name,
                State = nameof(VmState.Unknown),
                Steps = "none",
                Detail = $"cannot be planned: {ex.Message}; a shutdown would report it and fail for this VM only",
            };
        }
    }

    private async Task<VmShutdownPlan> PlanOneUncheckedAsync(string name, ShutdownOptions options, TimeSpan? deadline, CancellationToken cancellationToken)
    {
        VmPaths vm;
        try
        {
            vm = Root.Vm(name);
        }
        catch (CastraException ex)
        {
            return new VmShutdownPlan { VmName = name, State = "NotFound", Detail = ex.Message };
        }

        if (!vm.Exists)
        {
            return new VmShutdownPlan { VmName = name, State = "NotFound", Detail = $"no VM named '{name}' under {Root.Path}" };
        }

        VmDefinition? definition = null;
        try
        {
            definition = VmDefinitionStore.TryRead(vm);
        }
        catch (CastraException)
        {
            // The shutdown itself would warn and use defaults; so does the plan.
        }

        var timeouts = ShutdownTimeouts.Resolve(options, definition);
        var info = await VmInventory.DescribeAsync(vm, cancellationToken).ConfigureAwait(false);
        var basePlan = new VmShutdownPlan
        {
            VmName = name,
            State = info.State,
            Pid = info.Pid,
            CooperativeTimeoutMs = Ms(timeouts.Cooperative),
            TermTimeoutMs = Ms(timeouts.Term),
            KillTimeoutMs = Ms(timeouts.Kill),
        };

        if (info.State == nameof(VmState.ShuttingDown))
        {
            var status = ShutdownStatusReader.Read(vm);
            return Finish(basePlan with
            {
                Detail = $"already being shut down by PID {status?.OwnerPid} (phase {status?.Phase}): a new call would follow it",
                WorstCaseMs = status?.RemainingMs ?? 0,
                Steps = "follow the running shutdown",
            }, deadline);
        }

        if (info.State != nameof(VmState.Running))
        {
            // Nothing to stop, but a run still drains the VM's running sessions and, when the pidfile names a QEMU
            // that has exited, runs its PostStop hooks (never its PreStop hooks: there is no guest to prepare).
            var verdict = info.State == nameof(VmState.Stale) ? await StaleVerdictAsync(vm, definition, cancellationToken).ConfigureAwait(false) : null;
            var exited = verdict == IdentityVerdict.Exited;
            var (idleHooks, idleBudget) = PlanHooks(vm, options, preStop: false, postStop: exited);
            string idleDetail;
            if (verdict == IdentityVerdict.Disputed)
            {
                idleDetail = $"{info.Detail}; nothing would be signalled and the run would fail ({ErrorIds.IdentityDisputed})";
            }
            else if (info.State == nameof(VmState.Stale))
            {
                idleDetail = exited && idleHooks.Count > 0
                    ? $"{info.Detail}; the stale pidfile would be removed, nothing signalled, and the PostStop hooks run"
                    : $"{info.Detail}; the stale pidfile would be removed, nothing signalled";
            }
            else
            {
                idleDetail = "not running: nothing to do";
            }

            return Finish(basePlan with
            {
                Detail = idleDetail,
                Steps = "none",
                Hooks = idleHooks.Count == 0 ? "" : string.Join("; ", idleHooks),
                WorstCaseMs = Ms(idleBudget),
            }, deadline);
        }

        var (hooks, hookBudget) = PlanHooks(vm, options, preStop: !options.Force, postStop: true);
        basePlan = basePlan with { Hooks = hooks.Count == 0 ? "none" : string.Join("; ", hooks) };
        var extra = Ms(hookBudget);
        var signals = $"SIGTERM (≤{EventText.Seconds(Ms(timeouts.Term))}) → SIGKILL (≤{EventText.Seconds(Ms(timeouts.Kill))})";
        if (options.Force)
        {
            return Finish(basePlan with
            {
                Method = ContractNames.Of(CooperativeChannel.None),
                Detail = "force: the cooperative step is skipped",
                WorstCaseMs = Ms(timeouts.WorstCase(force: true)) + extra,
                Steps = signals,
            }, deadline);
        }

        var window = timeouts.Cooperative;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        // The pre-flight talks only to the proven QEMU, through the VM's open directory, like the shutdown itself.
        using var dir = VmDirectory.TryOpen(vm);
        var located = dir is null ? null : await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, cancellationToken).ConfigureAwait(false);
        using var qemu = located?.Verdict == IdentityVerdict.Verified ? located.Process : null;
        if (dir is null || qemu is null)
        {
            located?.Process?.Dispose();
            return Finish(basePlan with
            {
                State = nameof(VmState.Stopped),
                Detail = "its QEMU is no longer running: nothing to do",
                Steps = "none",
                WorstCaseMs = Ms(hookBudget),
            }, deadline);
        }

        await using var probe = await ChannelProbe.RunAsync(dir, qemu, options, () => window - System.Diagnostics.Stopwatch.GetElapsedTime(started), cancellationToken).ConfigureAwait(false);
        var decision = probe.Decide(options.Method);
        var channel = ContractNames.Of(decision.Channel);
        string detail;
        long worst;
        string steps;
        if (!decision.Proceeds && decision.Channel == CooperativeChannel.Unavailable)
        {
            detail = decision.FailureDetail ?? "no cooperative channel";
            worst = Ms(timeouts.Term + timeouts.Kill);
            steps = signals;
        }
        else if (!decision.Proceeds)
        {
            detail = $"the {channel} channel is broken: {decision.FailureDetail}";
            worst = Ms(window + timeouts.Term + timeouts.Kill);
            steps = $"{channel} fails at once → {signals}";
        }
        else
        {
            detail = decision.Channel == CooperativeChannel.Agent
                ? "the guest agent answered" + (decision.AgentMayHandOverToAcpi ? "; ACPI is the fallback" : "")
                : $"QMP answers, guest {probe.GuestStatus}" + (decision.AttemptDetail is null ? "" : $"; {decision.AttemptDetail}");
            worst = Ms(timeouts.WorstCase(force: false));
            var cooperative = decision.Channel == CooperativeChannel.Agent ? "guest agent shutdown" : "ACPI power button";
            steps = $"{cooperative} (≤{EventText.Seconds(Ms(window))}) → {signals}";
        }

        return Finish(basePlan with { Method = channel, Detail = detail, GuestStatus = probe.GuestStatus, WorstCaseMs = worst + extra, Steps = steps }, deadline);
    }

    /// <summary>
    /// The session drain (when the VM has running sessions) and the hooks a shutdown would run, in order, and the
    /// time they may add. An unreadable hooks.json is shown, not fatal: the shutdown itself would warn the same way.
    /// </summary>
    private static (List<string> Hooks, TimeSpan Budget) PlanHooks(VmPaths vm, ShutdownOptions options, bool preStop, bool postStop)
    {
        var parts = new List<string>();
        var budget = TimeSpan.Zero;
        var sessions = Sessions.SessionDrainer.Active(vm).Count;
        if (sessions > 0)
        {
            parts.Add($"{Sessions.SessionDrainer.StepName} ({sessions} session(s), ≤{EventText.Seconds(Ms(Sessions.SessionDrainer.Budget(options.DrainTimeout)))})");
            budget += Sessions.SessionDrainer.Budget(options.DrainTimeout);
        }

        if (!preStop && !postStop)
        {
            return (parts, budget);
        }

        IReadOnlyList<CleanupHook> pre, post;
        try
        {
            var store = new HookStore(vm.Root);
            pre = preStop ? store.ForVm(vm.Name, HookStage.PreStop) : [];
            post = postStop ? store.ForVm(vm.Name, HookStage.PostStop) : [];
        }
        catch (CastraException ex)
        {
            parts.Add($"unreadable: {ex.Message}");
            return (parts, budget);
        }

        parts.AddRange(pre.Concat(post).Select(h => h.Describe()));
        return (parts, budget + HookBudget.Of(pre) + HookBudget.Of(post));
    }

    /// <summary>Why a VM is Stale: its QEMU has exited, its pidfile names someone else's process, or its identity is disputed.</summary>
    private static async Task<IdentityVerdict?> StaleVerdictAsync(VmPaths vm, VmDefinition? definition, CancellationToken cancellationToken)
    {
        using var dir = VmDirectory.TryOpen(vm);
        if (dir is null)
        {
            return null;
        }

        var located = await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, cancellationToken).ConfigureAwait(false);
        located.Process?.Dispose();
        return located.Verdict;
    }

    private static VmShutdownPlan Finish(VmShutdownPlan plan, TimeSpan? deadline) =>
        deadline is { } d ? plan with { ExceedsDeadline = plan.WorstCaseMs > d.TotalMilliseconds } : plan;

    private static long Ms(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);
}

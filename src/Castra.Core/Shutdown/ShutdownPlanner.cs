using Castra.Errors;
using Castra.Events;
using Castra.Hooks;
using Castra.Processes;
using Castra.Sessions;
using Castra.Shutdown.Plan;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Computes, without changing anything, what a shutdown would do: the same look at the VM as the shutdown's (its
/// proven QEMU, sessions and hooks) and the same plan (<see cref="ShutdownPlanBuilder"/>), with the pre-flight of
/// the cooperative step (<see cref="ChannelProbe"/>) added, so an operator can fit a shutdown into an outer budget
/// (systemd, a UPS, Kubernetes) before starting it.
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
                State = nameof(PlanState.Unknown),
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
            return new VmShutdownPlan { VmName = name, State = nameof(PlanState.NotFound), Detail = ex.Message };
        }

        using var dir = VmDirectory.TryOpen(vm);
        if (dir is null)
        {
            return new VmShutdownPlan { VmName = name, State = nameof(PlanState.NotFound), Detail = $"no VM named '{name}' under {Root.Path}" };
        }

        VmDefinition? definition = null;
        try
        {
            definition = VmDefinitionStore.TryRead(dir);
        }
        catch (CastraException)
        {
            // The shutdown itself would warn and use defaults; so does the plan.
        }

        var timeouts = ShutdownTimeouts.Resolve(options, definition);
        options = options.ResolveFor(definition);

        // The same look as the shutdown's, read-only: the pre-flight talks only to the proven QEMU, through the VM's open directory.
        var located = await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, cancellationToken).ConfigureAwait(false);
        using var qemu = located.Verdict == IdentityVerdict.Verified ? located.Process : null;
        var found = located.Verdict switch
        {
            null => QemuFound.NotRunning,
            IdentityVerdict.Exited => QemuFound.Exited,
            IdentityVerdict.NotOurs => QemuFound.Stale,
            IdentityVerdict.Disputed => QemuFound.Disputed,
            _ => QemuFound.Running,
        };

        if (found == QemuFound.Running && ReadStatus(dir)?.IsInProgress() == true)
        {
            var status = ShutdownStatusReader.Read(vm);
            return PlanPreview.Following(name, located.Pid, timeouts, status, deadline);
        }

        var hooks = found is QemuFound.Running or QemuFound.Exited ? ReadHooks(vm, found == QemuFound.Running) : HookSelection.None;
        var sessions = SessionDrainer.Active(vm);
        if (found != QemuFound.Running || options.Force || options.Save)
        {
            return PlanPreview.Of(ShutdownPlanBuilder.Build(name, found, located.Detail, sessions, hooks, timeouts, options), located.Pid, hooks, null, deadline, options.Wording);
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var probe = await ChannelProbe.RunAsync(dir, qemu!, options, () => timeouts.Cooperative - System.Diagnostics.Stopwatch.GetElapsedTime(started), cancellationToken).ConfigureAwait(false);
        var plan = ShutdownPlanBuilder.Build(name, found, located.Detail, sessions, hooks, timeouts, options, probe.Decide(options.Method));
        return PlanPreview.Of(plan, located.Pid, hooks, probe.GuestStatus, deadline, options.Wording);
    }

    private static StatusDocument? ReadStatus(VmDirectory dir)
    {
        try
        {
            return StatusStore.TryRead(dir);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>The hooks a shutdown would run; an unreadable hooks.json is shown, as the shutdown would report it.</summary>
    private static HookSelection ReadHooks(VmPaths vm, bool qemuRunning)
    {
        try
        {
            var store = new HookStore(vm.Root);
            return new HookSelection(qemuRunning ? store.ForVm(vm.Name, HookStage.PreStop) : [], store.ForVm(vm.Name, HookStage.PostStop));
        }
        catch (CastraException ex)
        {
            return new HookSelection([], [], ex.Message);
        }
    }

}

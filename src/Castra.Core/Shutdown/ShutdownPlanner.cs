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

    /// <param name="deadline">When given, each plan says whether its group's start plus its worst case exceeds it.</param>
    /// <returns>The plans in the order their groups would stop (see <see cref="ShutdownOrder"/>), each with its group.</returns>
    public async Task<IReadOnlyList<VmShutdownPlan>> PlanAsync(IEnumerable<string> vmNames, ShutdownOptions options, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vmNames);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var names = vmNames.Distinct(StringComparer.Ordinal).ToList();

        // The same read of each VM's order as the shutdown's (an unreadable vm.json: the default group).
        var orders = names.ToDictionary(n => n, n => ShutdownOrder.Read(Root, n), StringComparer.Ordinal);
        var plans = await Task.WhenAll(names.Select(name => PlanOneAsync(name, options, deadline, cancellationToken))).ConfigureAwait(false);
        return OrderPreview.Apply(plans, orders, options, deadline);
    }

    /// <summary>
    /// Refuses, naming the VMs, when any worst case exceeds the deadline; with a throttle, also when the VMs that
    /// have work to do could queue past it (conservatively: batches of the throttle size, each as long as the longest);
    /// with a shutdown order, when the groups one after another (and the delays between them) could run past it.
    /// </summary>
    /// <exception cref="CastraException">ErrorId CastraDeadlineExceeded.</exception>
    public static void EnsureWithinDeadline(IReadOnlyList<VmShutdownPlan> plans, TimeSpan deadline, int throttleLimit = 0)
    {
        ArgumentNullException.ThrowIfNull(plans);
        if (OrderPreview.DeadlineProblem(plans, deadline, throttleLimit) is { } problem)
        {
            throw problem;
        }
    }

    /// <summary>The refusal <see cref="EnsureWithinDeadline"/> would throw, or null: for a face that shows the plan first (--dry-run).</summary>
    public static CastraException? DeadlineProblem(IReadOnlyList<VmShutdownPlan> plans, TimeSpan deadline, int throttleLimit = 0) =>
        OrderPreview.DeadlineProblem(plans, deadline, throttleLimit);

    /// <summary>
    /// The worst case of a whole call from plans placed in their groups (<see cref="PlanAsync"/>), with each VM's
    /// <see cref="VmShutdownPlan.WorstCaseMs"/> as given: for a budget that counts VMs differently (e.g. a stopped VM
    /// as if it were running, for a unit installed ahead of time) but must combine them as the engine runs them.
    /// </summary>
    public static long OrderWorstCaseMs(IEnumerable<VmShutdownPlan> plans, int throttleLimit, TimeSpan groupDelay)
    {
        ArgumentNullException.ThrowIfNull(plans);
        return OrderPreview.OrderWorstCaseMs(plans, throttleLimit, groupDelay);
    }

    /// <summary>The order in one line, for a face's summary under its plans ("group 1 (order 0: web) …").</summary>
    public static string DescribeOrder(IReadOnlyList<VmShutdownPlan> plans) => OrderPreview.Describe(plans);

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

        // The shutdown itself would warn and use defaults; so does the plan.
        var definition = VmDefinitionStore.ReadOrNull(dir);

        var timeouts = ShutdownTimeouts.Resolve(options, definition);
        options = options.ResolveFor(definition);

        // The same look as the shutdown's, read-only: the pre-flight talks only to the proven QEMU, through the VM's open directory.
        var located = await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, cancellationToken).ConfigureAwait(false);
        using var qemu = located.Verdict == IdentityVerdict.Verified ? located.Process : null;
        var found = located.Found;

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

using Castra.Errors;
using Castra.Hooks;
using Castra.Sessions;
using Castra.Shutdown;
using Castra.Shutdown.Plan;
using Castra.State;

namespace Castra.HostShutdown;

/// <summary>
/// How long the unit's <c>castra down --all</c> may take, computed at install time from the engine's own plans (the
/// preview -WhatIf and --dry-run show): each VM's worst case as if it were running, combined the way the engine runs
/// them (group by group in shutdown order; within a group concurrently, the longest, or with a throttle batches of the
/// throttle size, each as long as the longest; as -Deadline counts them). It is a snapshot: a VM added later with longer timeouts or hooks needs the install re-run.
/// </summary>
public sealed record HostShutdownBudget
{
    /// <summary>The longest <c>castra down --all</c> can take for the VMs present now (never below <see cref="FloorMs"/>).</summary>
    public long WorstCaseMs { get; init; }

    /// <summary>
    /// The worst case of a VM with no vm.json timeouts and no hooks under the unit's options: the budget never goes
    /// below it, so a VM created after the install with the defaults still fits.
    /// </summary>
    public long FloorMs { get; init; }

    public int ThrottleLimit { get; init; }

    public IReadOnlyList<VmBudget> Vms { get; init; } = [];

    /// <summary>Plans every VM under <paramref name="root"/> with the unit's options; read-only (the preview's look).</summary>
    /// <exception cref="CastraException">The VMs cannot be listed.</exception>
    public static async Task<HostShutdownBudget> ComputeAsync(StateRoot root, ShutdownOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(options);
        options = options with { Deadline = null };
        var names = root.ListVmNames();
        var previews = await new ShutdownEngine(root).PreviewAsync(names, options, cancellationToken).ConfigureAwait(false);
        var drain = SessionDrainer.Budget(options.DrainTimeout);
        var floor = Ms(ShutdownTimeouts.Resolve(options, null).WorstCase(options.Force) + drain);
        // Each VM's plan as if it were running, keeping the group the preview placed it in (its vm.json ShutdownOrder).
        var plans = previews.Select(p => p with { WorstCaseMs = Math.Max(p.WorstCaseMs, AsIfRunning(root, p.VmName, options, drain) ?? floor) }).ToList();
        var vms = plans.Select(p => new VmBudget { VmName = p.VmName, State = p.State, WorstCaseMs = p.WorstCaseMs }).ToList();

        return new HostShutdownBudget
        {
            Vms = vms,
            FloorMs = floor,
            ThrottleLimit = options.ThrottleLimit,

            // Combined as the engine runs them (the rule -Deadline checks): group by group in shutdown order, each group
            // as long as its longest VM (batches with a throttle), plus the delay after every group but the last.
            WorstCaseMs = Math.Max(floor, ShutdownPlanner.OrderWorstCaseMs(plans, options.ThrottleLimit, options.GroupDelay)),
        };
    }

    /// <summary>
    /// The VM's plan as the engine would build it for a running QEMU (its vm.json timeouts, its PreStop and PostStop
    /// hooks), plus a session drain: null when the VM cannot be read (then the defaults count).
    /// </summary>
    private static long? AsIfRunning(StateRoot root, string name, ShutdownOptions options, TimeSpan drain)
    {
        try
        {
            var vm = root.Vm(name);
            using var dir = VmDirectory.TryOpen(vm);
            if (dir is null)
            {
                return null;
            }

            // The shutdown would warn and use the defaults; so does the budget.
            var definition = VmDefinitionStore.ReadOrNull(dir);

            var hooks = ReadHooks(root, name);
            var plan = ShutdownPlanBuilder.Build(name, QemuFound.Running, "", [], hooks, ShutdownTimeouts.Resolve(options, definition), options);
            return Ms(plan.WorstCase + drain);
        }
        catch (Exception ex) when (ex is IOException or CastraException or InvalidDataException)
        {
            return null;
        }
    }

    private static HookSelection ReadHooks(StateRoot root, string name)
    {
        try
        {
            var store = new HookStore(root);
            return new HookSelection(store.ForVm(name, HookStage.PreStop), store.ForVm(name, HookStage.PostStop));
        }
        catch (CastraException ex)
        {
            return new HookSelection([], [], ex.Message);
        }
    }

    private static long Ms(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);
}

using Castra.Errors;
using Castra.Events;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Shuts VMs down, concurrently, each through its own ordered and bounded sequence (see docs/events.md).
/// One VM's trouble (not found, stuck, failed) is reported for that VM and never delays or stops another.
/// </summary>
public sealed class ShutdownEngine
{
    /// <summary>
    /// How many VMs may be in their start-up at once. Without a bound, a call for 1000 VMs queued 1000 blocking
    /// start-ups (file creation, fsync) on the thread pool at once, and the socket continuations of VMs already past
    /// them waited behind the whole queue: measured with the benchmark at N=1000 on 2 cores, 850 healthy VMs hit
    /// the 2 s QMP greeting timeout and were sent SIGTERM. Bounded, a VM's handshake waits behind at most this many
    /// start-ups, and the thread pool is never flooded; a few per core keep the disk busy while others use the CPU.
    /// </summary>
    internal static readonly int StartupConcurrency = Math.Max(4, Environment.ProcessorCount * 4);

    public ShutdownEngine(StateRoot root) => Root = root;

    public StateRoot Root { get; }

    /// <summary>
    /// Stops the named VMs (duplicates ignored), group by group in their <see cref="ShutdownOrder"/> (lowest first;
    /// concurrently within a group) unless <see cref="ShutdownOptions.IgnoreOrder"/>. Events and diagnostics go to
    /// <paramref name="observer"/> as they happen; the task completes when every VM is done. Cancelling stops all
    /// waiting and sends no further signal; the VMs of groups not yet started end Cancelled without being touched.
    /// </summary>
    /// <exception cref="CastraException">Invalid options, or a worst case over <see cref="ShutdownOptions.Deadline"/> (nothing was started).</exception>
    public async Task<IReadOnlyList<VmShutdownResult>> StopAsync(
        IEnumerable<string> vmNames,
        ShutdownOptions options,
        IShutdownObserver observer,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vmNames);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        options.Validate();

        var names = vmNames.Distinct(StringComparer.Ordinal).ToList();
        if (options.Deadline is not null)
        {
            await PreviewAsync(names, options, cancellationToken).ConfigureAwait(false);
        }

        // Each VM's order is read from its vm.json (a hop to the state I/O threads; none for one VM or -IgnoreOrder).
        var schedule = options.IgnoreOrder || names.Count < 2
            ? GroupSchedule.Single(names)
            : await StateIo.Shared.RunAsync(() => GroupSchedule.For(Root, names, options)).ConfigureAwait(false);
        return await Task.WhenAll(Start(names.Select(n => new VmRun(n, observer, cancellationToken)).ToList(), schedule, options)).ConfigureAwait(false);
    }

    /// <summary>
    /// Each VM's plan, from a read-only look (-WhatIf, --dry-run), with its group and the worst case of the whole
    /// order, checked against <see cref="ShutdownOptions.Deadline"/> when one is given: the one place both faces
    /// refuse a shutdown that may not fit (before anything is started).
    /// </summary>
    /// <exception cref="CastraException">Invalid options, or CastraDeadlineExceeded naming the VMs.</exception>
    public async Task<IReadOnlyList<VmShutdownPlan>> PreviewAsync(IEnumerable<string> vmNames, ShutdownOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plans = await new ShutdownPlanner(Root).PlanAsync(vmNames, options, options.Deadline, cancellationToken).ConfigureAwait(false);
        if (options.Deadline is { } deadline)
        {
            ShutdownPlanner.EnsureWithinDeadline(plans, deadline, options.ThrottleLimit);
        }

        return plans;
    }

    /// <summary>
    /// Starts each VM's shutdown as a task of its own, with its own observer and cancellation (one child job per VM:
    /// it completes when its VM does, and Stop-Job on it cancels that VM only), sharing one throttle and one bound on
    /// start-ups across them, group by group as <see cref="StopAsync"/> does. No deadline check: the caller has made
    /// it (<see cref="PreviewAsync"/>). Reads each VM's order on the calling thread.
    /// </summary>
    /// <exception cref="CastraException">Invalid options (nothing was started).</exception>
    public IReadOnlyList<Task<VmShutdownResult>> StartEach(IReadOnlyList<VmRun> runs, ShutdownOptions options)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var distinct = runs.DistinctBy(r => r.VmName, StringComparer.Ordinal).ToList();
        return Start(distinct, GroupSchedule.For(Root, [.. distinct.Select(r => r.VmName)], options), options);
    }

    /// <summary>
    /// Starts every VM's task at once; a VM of a later group first waits (without a thread) until every VM of the
    /// groups before it has ended and the group delay has passed. A stuck VM holds its group back only as long as its
    /// own ladder is bounded, and a VM that fails still lets the next group go: a host shutdown must reach the last one.
    /// </summary>
    private List<Task<VmShutdownResult>> Start(IReadOnlyList<VmRun> runs, GroupSchedule schedule, ShutdownOptions options)
    {
        var gate = options.ThrottleLimit > 0 ? new SemaphoreSlim(options.ThrottleLimit) : null;
        var startup = new SemaphoreSlim(StartupConcurrency);

        // Cancelled once every VM's task has ended: a group delay nobody waits for any more stops at once.
        var ended = new CancellationTokenSource();
        var byName = runs.ToDictionary(r => r.VmName, StringComparer.Ordinal);
        var tasks = new Dictionary<string, Task<VmShutdownResult>>(StringComparer.Ordinal);
        Task previous = Task.CompletedTask;
        foreach (var group in schedule.Groups)
        {
            var after = previous;
            var earlier = group.Position > 1 ? schedule.Groups[group.Position - 2] : null;

            // Task.Run: the synchronous start of each VM's run (lock, status file, pidfile) proceeds in parallel too.
            var members = group.VmNames.Select(n => byName[n])
                .Select(r => Task.Run(() => StopInGroupAsync(r, group, earlier, after, options, gate, startup), CancellationToken.None))
                .ToList();
            foreach (var (name, task) in group.VmNames.Zip(members))
            {
                tasks[name] = task;
            }

            var last = group.Position == schedule.Groups.Count;
            previous = GroupEndedAsync(members, last ? TimeSpan.Zero : options.GroupDelay, ended.Token);
        }

        var all = runs.Select(r => tasks[r.VmName]).ToList();
        _ = Task.WhenAll(all).ContinueWith(_ =>
        {
            ended.Cancel();
            ended.Dispose();
            gate?.Dispose();
            startup.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return all;
    }

    /// <summary>Completes when every VM of a group has ended its run and the delay after it has passed (or nobody waits).</summary>
    private static async Task GroupEndedAsync(List<Task<VmShutdownResult>> members, TimeSpan delay, CancellationToken ended)
    {
        // The members never fault (each VM's failure is its result); the barrier never passes one on either.
        await Task.WhenAll(members).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, ended).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Every VM's task has ended: nothing waits for this group any more.
            }
        }
    }

    private async Task<VmShutdownResult> StopInGroupAsync(
        VmRun run, ShutdownGroup group, ShutdownGroup? earlier, Task after, ShutdownOptions options, SemaphoreSlim? gate, SemaphoreSlim startup)
    {
        if (earlier is not null && !after.IsCompleted)
        {
            // Said once per waiting VM, so a face can show it waiting rather than stuck (Write-Progress, -Verbose).
            run.Observer.OnDiagnostic(new ShutdownDiagnostic(run.VmName, DiagnosticSeverity.Trace, ErrorIds.WaitingForGroup, CastraErrorCategory.NotSpecified,
                $"{run.VmName}: shutdown order {group.Order}: waiting for group {earlier.Position} (order {earlier.Order}: {ShutdownGroup.List([.. earlier.VmNames])}) to stop"
                + (options.GroupDelay > TimeSpan.Zero ? $", then {EventText.Seconds((long)options.GroupDelay.TotalMilliseconds)}" : "")));
            try
            {
                await after.WaitAsync(run.CancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // As a VM cancelled while it waited for the throttle: never started, nothing sent, no events.
                return new VmShutdownResult(run.VmName, ShutdownOutcome.Cancelled, false, 0, ErrorIds.ShutdownCancelled,
                    $"cancelled before it started (waiting for group {earlier.Position} of the shutdown order to stop)");
            }
        }

        return await StopOneAsync(run.VmName, group.Order, options, run.Observer, gate, startup, run.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many times <see cref="StopAllAsync"/> looks again for VMs that appeared while it ran.</summary>
    internal const int AllRounds = 3;

    /// <summary>
    /// Stops every VM under the state root: those present when it starts and, in up to <see cref="AllRounds"/>
    /// rounds, those that appear while it runs (a <c>castra up</c> racing a host shutdown must not be left running
    /// while the call reports success). Each newcomer is announced with a warning; any still appearing after the
    /// last round with an error (CastraVmAppeared).
    /// </summary>
    /// <exception cref="CastraException">As <see cref="StopAsync"/>.</exception>
    public async Task<IReadOnlyList<VmShutdownResult>> StopAllAsync(ShutdownOptions options, IShutdownObserver observer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var results = new List<VmShutdownResult>();
        for (var round = 0; ; round++)
        {
            List<string> names;
            try
            {
                names = Root.ListVmNames().Where(n => !seen.Contains(n)).ToList();
            }
            catch (CastraException ex) when (round > 0)
            {
                // The VMs of the earlier rounds were stopped and are reported; only the look for newcomers failed.
                observer.OnDiagnostic(new ShutdownDiagnostic(Root.Path, DiagnosticSeverity.Error, ex.ErrorId, ex.Category, ex.Message));
                return results;
            }

            if (names.Count == 0 && round == 0)
            {
                observer.OnDiagnostic(new ShutdownDiagnostic(Root.Path, DiagnosticSeverity.Warning, ErrorIds.NoVms, CastraErrorCategory.ObjectNotFound,
                    $"there are no VMs under {Root.Path}: nothing to stop"));
            }

            if (names.Count == 0 || cancellationToken.IsCancellationRequested)
            {
                return results;
            }

            if (round > 0)
            {
                var list = string.Join(", ", names);
                if (round == AllRounds)
                {
                    var message = $"VM(s) {list} appeared under {Root.Path} while every VM was being stopped and were not stopped (VMs kept appearing for {AllRounds} rounds)";
                    observer.OnDiagnostic(new ShutdownDiagnostic(list, DiagnosticSeverity.Error, ErrorIds.VmAppeared, CastraErrorCategory.InvalidOperation, message));
                    results.AddRange(names.Select(n => new VmShutdownResult(n, null, false, 0, ErrorIds.VmAppeared, message)));
                    return results;
                }

                observer.OnDiagnostic(new ShutdownDiagnostic(list, DiagnosticSeverity.Warning, ErrorIds.VmAppeared, CastraErrorCategory.InvalidOperation,
                    $"VM(s) {list} appeared under {Root.Path} while every VM was being stopped; stopping them too"));
            }

            seen.UnionWith(names);

            // The deadline is a refusal before anything starts: it applies to the VMs present at the start only.
            results.AddRange(await StopAsync(names, round == 0 ? options : options with { Deadline = null }, observer, cancellationToken).ConfigureAwait(false));
        }
    }

    private async Task<VmShutdownResult> StopOneAsync(
        string name, int? order, ShutdownOptions options, IShutdownObserver observer, SemaphoreSlim? gate, SemaphoreSlim startup, CancellationToken cancellationToken)
    {
        VmPaths vm;
        try
        {
            vm = Root.Vm(name);
        }
        catch (CastraException ex)
        {
            observer.OnDiagnostic(new ShutdownDiagnostic(name, DiagnosticSeverity.Error, ex.ErrorId, ex.Category, ex.Message));
            return new VmShutdownResult(name, null, false, 0, ex.ErrorId, ex.Message);
        }

        if (gate is not null)
        {
            try
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return new VmShutdownResult(name, ShutdownOutcome.Cancelled, false, 0, ErrorIds.ShutdownCancelled, "cancelled before it started");
            }
        }

        try
        {
            await startup.WaitAsync(cancellationToken).ConfigureAwait(false);
            using var slot = new StartupSlot(startup);
            return await new VmShutdown(vm, options, observer, slot, order).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new VmShutdownResult(name, ShutdownOutcome.Cancelled, false, 0, ErrorIds.ShutdownCancelled, "cancelled before it started");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CastraException)
        {
            var id = ex is CastraException ce ? ce.ErrorId : ErrorIds.Unexpected;
            var category = ex is CastraException c ? c.Category : CastraErrorCategory.NotSpecified;
            observer.OnDiagnostic(new ShutdownDiagnostic(name, DiagnosticSeverity.Error, id, category, $"{name}: {ex.Message}"));
            return new VmShutdownResult(name, ShutdownOutcome.Failed, false, 0, id, ex.Message);
        }
        finally
        {
            gate?.Release();
        }
    }
}

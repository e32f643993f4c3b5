using Castra.Errors;
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
    /// Stops the named VMs (duplicates ignored). Events and diagnostics go to <paramref name="observer"/> as they
    /// happen; the task completes when every VM is done. Cancelling stops all waiting and sends no further signal.
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

        return await Task.WhenAll(StartEach(names.Select(n => new VmRun(n, observer, cancellationToken)).ToList(), options)).ConfigureAwait(false);
    }

    /// <summary>
    /// Each VM's plan, from a read-only look (-WhatIf, --dry-run), checked against <see cref="ShutdownOptions.Deadline"/>
    /// when one is given: the one place both faces refuse a shutdown that may not fit (before anything is started).
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
    /// start-ups across them. No deadline check: the caller has made it (<see cref="PreviewAsync"/>).
    /// </summary>
    /// <exception cref="CastraException">Invalid options (nothing was started).</exception>
    public IReadOnlyList<Task<VmShutdownResult>> StartEach(IReadOnlyList<VmRun> runs, ShutdownOptions options)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var gate = options.ThrottleLimit > 0 ? new SemaphoreSlim(options.ThrottleLimit) : null;
        var startup = new SemaphoreSlim(StartupConcurrency);

        // Task.Run: the synchronous start of each VM's run (lock, status file, pidfile) proceeds in parallel too.
        var tasks = runs.DistinctBy(r => r.VmName, StringComparer.Ordinal)
            .Select(r => Task.Run(() => StopOneAsync(r.VmName, options, r.Observer, gate, startup, r.CancellationToken), CancellationToken.None))
            .ToList();
        _ = Task.WhenAll(tasks).ContinueWith(_ =>
        {
            gate?.Dispose();
            startup.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return tasks;
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
        string name, ShutdownOptions options, IShutdownObserver observer, SemaphoreSlim? gate, SemaphoreSlim startup, CancellationToken cancellationToken)
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
            return await new VmShutdown(vm, options, observer, slot).RunAsync(cancellationToken).ConfigureAwait(false);
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

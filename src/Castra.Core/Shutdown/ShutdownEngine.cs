using Castra.Errors;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Shuts VMs down, concurrently, each through its own ordered and bounded sequence (see docs/events.md).
/// One VM's trouble (not found, stuck, failed) is reported for that VM and never delays or stops another.
/// </summary>
public sealed class ShutdownEngine
{
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
        if (options.Deadline is { } deadline)
        {
            var plans = await new ShutdownPlanner(Root).PlanAsync(names, options, deadline, cancellationToken).ConfigureAwait(false);
            ShutdownPlanner.EnsureWithinDeadline(plans, deadline, options.ThrottleLimit);
        }

        using var gate = options.ThrottleLimit > 0 ? new SemaphoreSlim(options.ThrottleLimit) : null;

        // Task.Run: the synchronous start of each VM's run (lock, status file, pidfile) proceeds in parallel too.
        var runs = names.Select(name => Task.Run(() => StopOneAsync(name, options, observer, gate, cancellationToken), CancellationToken.None));
        return await Task.WhenAll(runs).ConfigureAwait(false);
    }

    private async Task<VmShutdownResult> StopOneAsync(string name, ShutdownOptions options, IShutdownObserver observer, SemaphoreSlim? gate, CancellationToken cancellationToken)
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
            return await new VmShutdown(vm, options, observer).RunAsync(cancellationToken).ConfigureAwait(false);
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

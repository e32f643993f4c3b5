using Castra.Diagnostics;
using Castra.Events;
using Castra.Processes;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Hooks;

/// <summary>
/// Runs one stage's hooks for one VM: priorities in ascending order, the hooks of one priority concurrently.
/// Each gets HookStarted when it starts and HookCompleted when it ends, in their place in the VM's event order.
/// A failure never stops the other hooks of its priority; under HookErrorAction Stop a PreStop failure stops the
/// priorities after it (and the caller aborts the shutdown).
/// </summary>
internal sealed class HookStageRunner
{
    private readonly EventRecorder _recorder;
    private readonly StatusTracker _status;

    public HookStageRunner(EventRecorder recorder, StatusTracker status)
    {
        _recorder = recorder;
        _status = status;
    }

    public async Task RunAsync(IReadOnlyList<CleanupHook> hooks, HookContext context, HookErrorAction errorAction, HookStageSummary summary, CancellationToken cancellationToken)
    {
        foreach (var group in hooks.GroupBy(h => h.Priority).OrderBy(g => g.Key))
        {
            var members = group.OrderBy(h => h.Name, StringComparer.Ordinal).ToList();
            var running = members.Select(h => RunOneAsync(h, context, summary, cancellationToken)).ToList();
            var results = await Task.WhenAll(running).ConfigureAwait(false);
            if (errorAction == HookErrorAction.Stop && context.Stage == HookStage.PreStop
                && results.FirstOrDefault(r => r.Status != HookStatus.Succeeded) is { } failure)
            {
                summary.AbortedBy = failure;
                return;
            }
        }
    }

    private async Task<HookResult> RunOneAsync(CleanupHook hook, HookContext context, HookStageSummary summary, CancellationToken cancellationToken)
    {
        _recorder.Emit(new HookStartedEvent { HookName = hook.Name, Stage = hook.Stage, Priority = hook.Priority, TimeoutMs = hook.TimeoutMs });
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        HookResult result;
        try
        {
            result = await Task.Run(() => HookRunner.RunAsync(hook, context, child => Started(hook, child), cancellationToken), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C during a hook: it was killed with its group; its HookStarted still gets its HookCompleted.
            var ms = (long)Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Complete(hook, context, new HookResult(hook, HookStatus.Cancelled, ms, null,
                "cancelled by the caller: its process group was killed", HookRunner.LogPathFor(context, hook)));
            throw;
        }

        summary.Add(result);
        Complete(hook, context, result);
        return result;
    }

    private void Complete(CleanupHook hook, HookContext context, HookResult result)
    {
        _recorder.Emit(new HookCompletedEvent
        {
            HookName = hook.Name,
            Stage = hook.Stage,
            Status = result.Status.ToString(),
            DurationMs = result.DurationMs,
            ExitCode = result.ExitCode,
            Message = result.Message,
            LogPath = result.LogPath,
        });
        _status.Update(d =>
        {
            d.HooksCompleted++;
            d.RunningHooks = Remove(d.RunningHooks, hook.Name);
            d.HookGroups?.RemoveAll(g => g.Hook == hook.Name);
            if (d.HookGroups is { Count: 0 })
            {
                d.HookGroups = null;
            }
        });
        CastraMetrics.RecordHook(context.Vm.Name, hook.Name, hook.Stage, result.Status.ToString(), result.DurationMs);
    }

    /// <summary>The hook runs: it shows as running, and its group is recorded for a takeover to end if this run dies.</summary>
    private void Started(CleanupHook hook, GroupLeader child) =>
        _status.Update(d =>
        {
            d.RunningHooks = Join(d.RunningHooks, hook.Name);
            (d.HookGroups ??= []).Add(new HookGroupRecord
            {
                Hook = hook.Name,
                ProcessGroup = child.GroupId,
                LeaderStartTime = child.StartTime,
                BootId = HostClock.BootId,
                Session = ProcStat.TryRead(child.Pid)?.Session,
            });
        });

    private static string Join(string? list, string name) => string.IsNullOrEmpty(list) ? name : $"{list}, {name}";

    private static string? Remove(string? list, string name)
    {
        var rest = (list ?? "").Split(", ", StringSplitOptions.RemoveEmptyEntries).Where(n => n != name).ToList();
        return rest.Count == 0 ? null : string.Join(", ", rest);
    }
}

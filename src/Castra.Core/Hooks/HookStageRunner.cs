using Castra.Diagnostics;
using Castra.Events;
using Castra.Processes;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Hooks;

/// <summary>
/// Runs one priority of one stage's hooks for one VM, concurrently (the plan has a step per priority, in ascending order).
/// Each gets HookStarted when it starts and HookCompleted when it ends, in their place in the VM's event order.
/// A failure never stops the other hooks of its priority; under HookErrorAction Stop a PreStop failure ends the run
/// before the priorities after it.
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

    /// <summary>
    /// Runs the hooks of one priority concurrently (one step of the plan). Returns the failure that aborts the
    /// shutdown (a PreStop hook that failed or timed out under HookErrorAction Stop), else null.
    /// </summary>
    public async Task<HookResult?> RunPriorityAsync(IReadOnlyList<CleanupHook> members, HookContext context, HookErrorAction errorAction, HookStageSummary summary, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(members.Select(h => RunOneAsync(h, context, summary, cancellationToken))).ConfigureAwait(false);
        return errorAction == HookErrorAction.Stop && context.Stage == HookStage.PreStop
            ? results.FirstOrDefault(r => r.Status != HookStatus.Succeeded)
            : null;
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
        _ = _status.Update(d =>
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
    private void Started(CleanupHook hook, GroupLeader child)
    {
        var group = new HookGroupRecord
        {
            Hook = hook.Name,
            ProcessGroup = child.GroupId,
            LeaderStartTime = child.StartTime,
            BootId = HostClock.BootId,
            Session = ProcStat.TryRead(child.Pid)?.Session,
        };
        _ = _status.Update(d =>
        {
            d.RunningHooks = Join(d.RunningHooks, hook.Name);
            (d.HookGroups ??= []).Add(group);
        });
    }

    private static string Join(string? list, string name) => string.IsNullOrEmpty(list) ? name : $"{list}, {name}";

    private static string? Remove(string? list, string name)
    {
        var rest = (list ?? "").Split(", ", StringSplitOptions.RemoveEmptyEntries).Where(n => n != name).ToList();
        return rest.Count == 0 ? null : string.Join(", ", rest);
    }
}

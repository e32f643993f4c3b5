using System.Diagnostics;
using Castra.Events;
using Castra.Native;
using Castra.Processes;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Sessions;

/// <summary>
/// Castra's own first step of a shutdown (priority 0, before PreStop hooks): every running session of the VM gets
/// SIGINT to its process group and is marked Draining; survivors of the drain period get SIGTERM, then SIGKILL
/// after a short grace. Each ends Stopped with StoppedAt. Reported as HookStarted/HookCompleted named
/// <c>castra.drain-sessions</c>, only when there were sessions to drain.
/// </summary>
internal static class SessionDrainer
{
    public const string StepName = "castra.drain-sessions";

    /// <summary>The VM's sessions whose process is alive. Read-only: the plan (-WhatIf, --dry-run) uses it too.</summary>
    public static IReadOnlyList<VmSession> Active(VmPaths vm) =>
        SessionStore.ReadAll(vm).Where(s => s.IsActive && SessionProcess.IsAlive(s)).ToList();

    /// <summary>What a shutdown drains: the live sessions, after recording Stopped those that ended with nobody watching.</summary>
    public static IReadOnlyList<VmSession> Reconcile(VmDirectory vm) =>
        SessionStore.ReadAll(vm).Where(s => s.IsActive).Select(SessionManager.Observed).Where(s => s.IsActive).ToList();

    /// <summary>The longest a drain can take: the drain period, then SIGTERM's grace and SIGKILL's.</summary>
    public static TimeSpan Budget(TimeSpan drain) => drain + GroupLeader.Grace + GroupLeader.Grace;

    /// <returns>How many sessions were interrupted.</returns>
    public static async Task<int> DrainAsync(VmDirectory vm, IReadOnlyList<VmSession> sessions, TimeSpan drain, EventRecorder recorder, CancellationToken cancellationToken)
    {
        var targets = sessions.ToList();
        if (targets.Count == 0)
        {
            return 0;
        }

        var started = Stopwatch.GetTimestamp();
        recorder.Emit(new HookStartedEvent { HookName = StepName, Stage = "PreStop", Priority = 0, TimeoutMs = (long)Budget(drain).TotalMilliseconds });
        var lastSignal = new Dictionary<string, string>(StringComparer.Ordinal);
        var pending = targets;
        try
        {
            // The whole group gets each step, and the drain period is the whole group's: a session whose leader
            // ends on SIGINT while a child of it is still finishing up is not cut short.
            var steps = new (int Signal, string Name, TimeSpan Wait)[] { (Libc.SIGINT, "SIGINT", drain), (Libc.SIGTERM, "SIGTERM", GroupLeader.Grace), (Libc.SIGKILL, "SIGKILL", GroupLeader.Grace) };
            foreach (var (signal, name, wait) in steps)
            {
                if (pending.Count == 0)
                {
                    break;
                }

                foreach (var session in pending)
                {
                    // Recorded before the signal, so a session that dies at once is not seen Stopped and then Draining.
                    Record(vm, session.RunId, s => s.Status == nameof(SessionStatus.Stopped) ? s with { InterruptedBy = name } : s with { Status = nameof(SessionStatus.Draining), InterruptedBy = name });
                    SessionProcess.SignalGroup(session, signal);
                    if (signal == Libc.SIGTERM)
                    {
                        SessionProcess.SignalGroup(session, Libc.SIGCONT); // a stopped member handles SIGTERM only once continued
                    }

                    lastSignal[session.RunId] = name;
                }

                pending = await WaitAllAsync(vm, pending, wait, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The caller stopped the shutdown: no further signal. Sessions still alive are Running again (their
            // InterruptedBy says what they got), not left Draining with no drain behind them.
            foreach (var session in pending.Where(SessionProcess.IsAlive))
            {
                Record(vm, session.RunId, s => s.Status == nameof(SessionStatus.Draining) ? s with { Status = nameof(SessionStatus.Running) } : s);
            }

            // The step that started is reported ended, as every HookStarted is.
            recorder.Emit(new HookCompletedEvent
            {
                HookName = StepName,
                Stage = "PreStop",
                Status = "Cancelled",
                DurationMs = (long)Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds),
                Message = $"cancelled by the caller: no further signal; {pending.Count(SessionProcess.IsAlive)} session(s) still running",
            });
            throw;
        }

        var byInt = lastSignal.Values.Count(v => v == "SIGINT");
        var message = $"{targets.Count} session(s) interrupted: {byInt} ended after SIGINT" +
            (targets.Count > byInt ? $", {targets.Count - byInt} needed {string.Join("/", lastSignal.Values.Where(v => v != "SIGINT").Distinct())}" : "") +
            (pending.Count > 0 ? $"; {pending.Count} still running after SIGKILL: {string.Join(", ", pending.Select(p => p.RunId))}" : "");
        recorder.Emit(new HookCompletedEvent
        {
            HookName = StepName,
            Stage = "PreStop",
            Status = pending.Count > 0 ? "Failed" : byInt == targets.Count ? "Succeeded" : "TimedOut",
            DurationMs = (long)Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds),
            Message = message,
        });
        return targets.Count;
    }

    /// <summary>
    /// Waits up to <paramref name="wait"/> for each session's whole group to be gone (all at once; the leader
    /// through its pidfd, then the rest of the group); marks those that ended Stopped; returns the rest.
    /// </summary>
    private static async Task<List<VmSession>> WaitAllAsync(VmDirectory vm, List<VmSession> targets, TimeSpan wait, CancellationToken cancellationToken)
    {
        var waits = targets.Select(async session =>
        {
            var started = Stopwatch.GetTimestamp();
            using (var leader = SessionProcess.Open(session))
            {
                if (leader is not null && !await leader.WaitForExitAsync(wait, cancellationToken).ConfigureAwait(false))
                {
                    return (session, gone: false);
                }
            }

            var stoppedAt = DateTime.UtcNow;
            Record(vm, session.RunId, s => s with { Status = nameof(SessionStatus.Stopped), StoppedAt = s.StoppedAt ?? stoppedAt });
            var left = wait - Stopwatch.GetElapsedTime(started);
            var gone = await SessionProcess.WaitUntilGoneAsync(session, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            return (session, gone);
        });
        var results = await Task.WhenAll(waits).ConfigureAwait(false);
        return results.Where(r => !r.gone).Select(r => r.session).ToList();
    }

    private static void Record(VmDirectory vm, string runId, Func<VmSession, VmSession> change)
    {
        try
        {
            SessionStore.Update(vm, runId, change);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The drain itself matters more than its record; the shutdown still reports the count.
        }
    }
}

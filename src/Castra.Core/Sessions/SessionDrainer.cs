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

    public static IReadOnlyList<VmSession> Active(VmPaths vm) =>
        SessionStore.ReadAll(vm).Where(s => s.IsActive && SessionProcess.IsAlive(s)).ToList();

    /// <summary>The longest a drain can take: the drain period, then SIGTERM's grace and SIGKILL's.</summary>
    public static TimeSpan Budget(TimeSpan drain) => drain + GroupLeader.Grace + GroupLeader.Grace;

    /// <returns>How many sessions were interrupted.</returns>
    public static async Task<int> DrainAsync(VmPaths vm, TimeSpan drain, EventRecorder recorder, CancellationToken cancellationToken)
    {
        var targets = Active(vm)
            .Select(s => (Session: s, Process: SessionProcess.Open(s)))
            .Where(t => t.Process is not null)
            .ToList();
        if (targets.Count == 0)
        {
            return 0;
        }

        var started = Stopwatch.GetTimestamp();
        recorder.Emit(new HookStartedEvent { HookName = StepName, Stage = "PreStop", Priority = 0, TimeoutMs = (long)Budget(drain).TotalMilliseconds });
        var lastSignal = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var (session, _) in targets)
            {
                // Recorded before the signal, so a session that dies at once is not seen Stopped and then Draining.
                Record(vm, session.RunId, s => s.Status == nameof(SessionStatus.Stopped) ? s : s with { Status = nameof(SessionStatus.Draining), InterruptedBy = "SIGINT" });
                Libc.KillGroup(session.Pid, Libc.SIGINT);
                lastSignal[session.RunId] = "SIGINT";
            }

            var steps = new (int Signal, string Name, TimeSpan Wait)[] { (Libc.SIGTERM, "SIGTERM", GroupLeader.Grace), (Libc.SIGKILL, "SIGKILL", GroupLeader.Grace) };
            var pending = await WaitAllAsync(vm, targets, drain, cancellationToken).ConfigureAwait(false);
            foreach (var (signal, name, wait) in steps)
            {
                if (pending.Count == 0)
                {
                    break;
                }

                foreach (var (session, _) in pending)
                {
                    Record(vm, session.RunId, s => s with { InterruptedBy = name });
                    Libc.KillGroup(session.Pid, signal);
                    Libc.KillGroup(session.Pid, Libc.SIGCONT);
                    lastSignal[session.RunId] = name;
                }

                pending = await WaitAllAsync(vm, pending, wait, cancellationToken).ConfigureAwait(false);
            }

            // Whatever a session spawned in its group goes with it.
            foreach (var (session, _) in targets)
            {
                Libc.KillGroup(session.Pid, Libc.SIGKILL);
            }

            var byInt = lastSignal.Values.Count(v => v == "SIGINT");
            var message = $"{targets.Count} session(s) interrupted: {byInt} ended after SIGINT" +
                (targets.Count > byInt ? $", {targets.Count - byInt} needed {string.Join("/", lastSignal.Values.Where(v => v != "SIGINT").Distinct())}" : "") +
                (pending.Count > 0 ? $"; {pending.Count} still running after SIGKILL: {string.Join(", ", pending.Select(p => p.Session.RunId))}" : "");
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
        finally
        {
            foreach (var (_, process) in targets)
            {
                process!.Dispose();
            }
        }
    }

    /// <summary>Waits (pidfd, all at once) up to <paramref name="wait"/>; marks those that ended Stopped; returns the rest.</summary>
    private static async Task<List<(VmSession Session, TrackedProcess? Process)>> WaitAllAsync(
        VmPaths vm, List<(VmSession Session, TrackedProcess? Process)> targets, TimeSpan wait, CancellationToken cancellationToken)
    {
        var waits = targets.Select(async t =>
        {
            var exited = await t.Process!.WaitForExitAsync(wait, cancellationToken).ConfigureAwait(false);
            if (exited)
            {
                var stoppedAt = DateTimeOffset.UtcNow;
                Record(vm, t.Session.RunId, s => s with { Status = nameof(SessionStatus.Stopped), StoppedAt = s.StoppedAt ?? stoppedAt });
            }

            return (t, exited);
        });
        var results = await Task.WhenAll(waits).ConfigureAwait(false);
        return results.Where(r => !r.exited).Select(r => r.t).ToList();
    }

    private static void Record(VmPaths vm, string runId, Func<VmSession, VmSession> change)
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

using Castra.Processes;

namespace Castra.Sessions;

/// <summary>Is a session's recorded PID still that session (same start time), not a recycled PID?</summary>
internal static class SessionProcess
{
    public static bool IsAlive(VmSession session)
    {
        var stat = ProcStat.TryRead(session.Pid);
        return stat is not null && !stat.IsDead
            && (session.ProcessStartTime is null || stat.StartTime == session.ProcessStartTime)
            && (session.BootId is null || session.BootId == HostClock.BootId);
    }

    /// <summary>A pidfd (or polling) handle on the session's process, only when it is provably the session.</summary>
    public static TrackedProcess? Open(VmSession session)
    {
        var process = TrackedProcess.Open(session.Pid);
        if (process is null)
        {
            return null;
        }

        // Checked after the pidfd is open: from here on, waiting on it cannot be fooled by a recycled PID.
        if (!IsAlive(session) || (session.ProcessStartTime is { } start && process.StartTime != start))
        {
            process.Dispose();
            return null;
        }

        return process;
    }

    /// <summary>
    /// Signals every live process of the session's group, each through a pidfd (never kill(-pgid): the leader may
    /// be gone and its number reused). Nothing on another boot. Returns how many were signalled.
    /// </summary>
    public static int SignalGroup(VmSession session, int signal) =>
        session.BootId is not null && session.BootId != HostClock.BootId
            ? 0
            : ProcessGroup.Signal(session.Pid, session.ProcessStartTime, signal);

    /// <summary>True when nothing of the session's group is left within <paramref name="bound"/>.</summary>
    public static Task<bool> WaitUntilGoneAsync(VmSession session, TimeSpan bound, CancellationToken cancellationToken) =>
        ProcessGroup.WaitUntilEmptyAsync(session.Pid, session.ProcessStartTime, bound, cancellationToken);
}

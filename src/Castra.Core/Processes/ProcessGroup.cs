using System.Diagnostics;
using System.Globalization;

namespace Castra.Processes;

/// <summary>
/// The live members of a process group (a hook's or a session's), found in /proc and signalled one by one through
/// a pidfd, never with kill(-pgid): once the group's leader has been reaped, its number can be handed to an unrelated
/// new group, and a signal by number would reach it.
/// </summary>
internal static class ProcessGroup
{
    /// <summary>How often an emptying group is re-read: the OS gives no notification when a group's last member exits.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Live (not zombie) processes whose group is <paramref name="groupId"/>. Empty when the group's number now
    /// belongs to someone else: a process holds the number as its PID but is not the leader that was started
    /// (<paramref name="leaderStartTime"/>). Members started before the leader cannot be ours and are left out.
    /// </summary>
    /// <param name="belongs">A further test each member must pass (a takeover's: the recorded session, started in time).</param>
    public static IReadOnlyList<ProcStat> Members(int groupId, ulong? leaderStartTime, Func<ProcStat, bool>? belongs = null)
    {
        var members = new List<ProcStat>();
        foreach (var directory in EnumerateProc())
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || ProcStat.TryRead(pid) is not { } stat || stat.ProcessGroup != groupId || stat.IsDead)
            {
                continue;
            }

            if (leaderStartTime is { } start)
            {
                if (pid == groupId && stat.StartTime != start)
                {
                    return [];
                }

                if (stat.StartTime < start)
                {
                    continue;
                }
            }

            if (belongs is null || belongs(stat))
            {
                members.Add(stat);
            }
        }

        return members;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to every live member. Each is opened as a pidfd after the scan and its start
    /// time checked again, so a PID recycled in between is skipped. Returns how many were signalled.
    /// </summary>
    public static int Signal(int groupId, ulong? leaderStartTime, int signal, Func<ProcStat, bool>? belongs = null)
    {
        var sent = 0;
        foreach (var member in Members(groupId, leaderStartTime, belongs))
        {
            using var process = TrackedProcess.Open(member.Pid);
            if (process is null || process.StartTime != member.StartTime)
            {
                continue;
            }

            if (process.Signal(signal, out _) == SignalResult.Sent)
            {
                sent++;
            }
        }

        return sent;
    }

    /// <summary>True when the group had no live member left within <paramref name="bound"/>.</summary>
    public static async Task<bool> WaitUntilEmptyAsync(int groupId, ulong? leaderStartTime, TimeSpan bound, CancellationToken cancellationToken, Func<ProcStat, bool>? belongs = null)
    {
        var started = Stopwatch.GetTimestamp();
        while (Members(groupId, leaderStartTime, belongs).Count > 0)
        {
            var left = bound - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            await Task.Delay(left < PollInterval ? left : PollInterval, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static IEnumerable<string> EnumerateProc()
    {
        try
        {
            return Directory.EnumerateDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}

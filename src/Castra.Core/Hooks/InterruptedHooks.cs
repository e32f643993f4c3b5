using Castra.Native;
using Castra.Processes;
using Castra.State;

namespace Castra.Hooks;

/// <summary>
/// A takeover's first duty: the hooks an interrupted run left running (recorded in its shutdown.json) are ended
/// before anything runs again, or a second copy of a hook would run beside the first. A group is ended only while
/// it is provably the hook's: same boot; a VM directory owned by root or the caller (no one else could have
/// stashed and restored the status file); members in the recorded session, started after the leader
/// (<see cref="ProcessGroup.Members"/>) and, once the leader itself is gone (its group number may have been handed
/// on), before the interrupted run last wrote its status. Every member is signalled through a pidfd, never by number.
/// </summary>
internal static class InterruptedHooks
{
    /// <summary>Start times derived from /proc are accurate to about a second (HostClock).</summary>
    private static readonly TimeSpan StartTimeResolution = TimeSpan.FromSeconds(1);

    /// <returns>One line per hook group that was still running and was ended.</returns>
    public static async Task<IReadOnlyList<string>> EndAsync(StatusDocument interrupted, VmDirectory dir, CancellationToken cancellationToken)
    {
        var ended = new List<string>();
        if (!dir.Files.OwnerTrusted)
        {
            return ended;
        }

        foreach (var group in interrupted.HookGroups ?? [])
        {
            if (group.BootId != HostClock.BootId || group.LeaderStartTime is not { } start || group.Session is not { } session)
            {
                continue; // Another boot, or no proof of whose group it is: nothing of it is touched.
            }

            var number = group.ProcessGroup;
            var leaderAlive = ProcStat.TryRead(number) is { IsDead: false } leader && leader.StartTime == start;
            bool Belongs(ProcStat member) =>
                member.Session == session
                && (leaderAlive || HostClock.ToWallClock(member.StartTime) is not { } at || at <= interrupted.UpdatedAt + StartTimeResolution);

            if (ProcessGroup.Members(number, start, Belongs).Count == 0)
            {
                continue;
            }

            ProcessGroup.Signal(number, start, Libc.SIGTERM, Belongs);
            ProcessGroup.Signal(number, start, Libc.SIGCONT, Belongs);
            if (!await ProcessGroup.WaitUntilEmptyAsync(number, start, GroupLeader.Grace, cancellationToken, Belongs).ConfigureAwait(false))
            {
                ProcessGroup.Signal(number, start, Libc.SIGKILL, Belongs);
                await ProcessGroup.WaitUntilEmptyAsync(number, start, GroupLeader.Grace, cancellationToken, Belongs).ConfigureAwait(false);
            }

            ended.Add($"hook '{group.Hook}' (process group {group.ProcessGroup}) of shutdown {interrupted.ShutdownId}");
        }

        return ended;
    }
}

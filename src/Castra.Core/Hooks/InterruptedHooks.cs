using Castra.Native;
using Castra.Processes;
using Castra.State;

namespace Castra.Hooks;

/// <summary>
/// A takeover's first duty: the hooks an interrupted run left running (recorded in its shutdown.json) are ended
/// before anything runs again, or a second copy of a hook would run beside the first. A group is ended only while
/// it is provably the hook's: same boot, and a leader with the recorded start time or members started after it
/// (<see cref="ProcessGroup.Members"/>); every member is signalled through a pidfd, never by group number.
/// </summary>
internal static class InterruptedHooks
{
    /// <returns>One line per hook group that was still running and was ended.</returns>
    public static async Task<IReadOnlyList<string>> EndAsync(StatusDocument interrupted, CancellationToken cancellationToken)
    {
        var ended = new List<string>();
        foreach (var group in interrupted.HookGroups ?? [])
        {
            if (group.BootId != HostClock.BootId || group.LeaderStartTime is not { } start)
            {
                continue; // Another boot, or no proof of whose group it is: nothing of it is touched.
            }

            if (ProcessGroup.Members(group.ProcessGroup, start).Count == 0)
            {
                continue;
            }

            ProcessGroup.Signal(group.ProcessGroup, start, Libc.SIGTERM);
            ProcessGroup.Signal(group.ProcessGroup, start, Libc.SIGCONT);
            if (!await ProcessGroup.WaitUntilEmptyAsync(group.ProcessGroup, start, GroupLeader.Grace, cancellationToken).ConfigureAwait(false))
            {
                ProcessGroup.Signal(group.ProcessGroup, start, Libc.SIGKILL);
                await ProcessGroup.WaitUntilEmptyAsync(group.ProcessGroup, start, GroupLeader.Grace, cancellationToken).ConfigureAwait(false);
            }

            ended.Add($"hook '{group.Hook}' (process group {group.ProcessGroup}) of shutdown {interrupted.ShutdownId}");
        }

        return ended;
    }
}

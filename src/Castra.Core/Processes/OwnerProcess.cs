using Castra.Native;

namespace Castra.Processes;

/// <summary>Who orchestrates a shutdown, recorded in shutdown.json so other sessions can tell if it is still alive.</summary>
internal static class OwnerProcess
{
    public static int Pid => Environment.ProcessId;

    public static ulong? StartTime { get; } = ProcStat.TryRead(Environment.ProcessId)?.StartTime;

    /// <summary>Alive and the same process (a recycled PID with another start time is not the owner).</summary>
    public static bool IsAlive(int pid, ulong? startTime)
    {
        if (pid <= 0)
        {
            return false;
        }

        if (OperatingSystem.IsLinux())
        {
            var stat = ProcStat.TryRead(pid);
            return stat is not null && !stat.IsDead && (startTime is null || stat.StartTime == startTime);
        }

        return Libc.kill(pid, 0) == 0 || Libc.LastError != Libc.ESRCH;
    }
}

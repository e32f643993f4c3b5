using System.Globalization;
using Castra.Native;
using Castra.Processes;

namespace Castra.Tests.Support;

/// <summary>
/// A process that must survive a test, known by PID and start time (it may not be the test's child: started at a
/// chosen PID, or re-parented). Killed at the end only if it is still that very process.
/// </summary>
public sealed class Bystander : IDisposable
{
    private Bystander(int pid, ulong startTime)
    {
        Pid = pid;
        StartTime = startTime;
    }

    public int Pid { get; }

    public ulong StartTime { get; }

    /// <summary>Still running (not a zombie) and still the same process.</summary>
    public bool IsAlive => ProcStat.TryRead(Pid) is { IsDead: false } stat && stat.StartTime == StartTime;

    public static Bystander Of(int pid) =>
        new(pid, ProcStat.TryRead(pid)?.StartTime ?? throw new InvalidOperationException($"PID {pid.ToString(CultureInfo.InvariantCulture)} is not running"));

    public void Dispose()
    {
        using var process = TrackedProcess.Open(Pid);
        if (process is not null && process.StartTime == StartTime)
        {
            process.Signal(Libc.SIGKILL, out _);
        }
    }
}

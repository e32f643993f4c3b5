using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// Fallback where pidfd is unavailable. Exit is detected by polling every 20 ms, reading /proc so that a zombie
/// (exited, not yet reaped: kill(pid, 0) still succeeds for ~1.3 s on some hosts) counts as exited. Before every
/// signal the start time is compared again, which narrows, but cannot close, the PID-reuse window pidfd closes.
/// </summary>
internal sealed class PollingProcess : TrackedProcess
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public PollingProcess(int pid, ulong? startTime)
        : base(pid, startTime)
    {
    }

    public override string Mechanism => "polling";

    public override bool HasExited
    {
        get
        {
            if (OperatingSystem.IsLinux())
            {
                var stat = ProcStat.TryRead(Pid);
                return stat is null || stat.IsDead || (StartTime is { } start && stat.StartTime != start);
            }

            return Libc.kill(Pid, 0) != 0 && Libc.LastError == Libc.ESRCH;
        }
    }

    public override SignalResult Signal(int signal, out int errno)
    {
        errno = 0;
        if (OperatingSystem.IsLinux())
        {
            var stat = ProcStat.TryRead(Pid);
            if (stat is null || stat.IsDead)
            {
                return SignalResult.AlreadyExited;
            }

            if (StartTime is { } start && stat.StartTime != start)
            {
                return SignalResult.IdentityChanged;
            }
        }

        if (Libc.kill(Pid, signal) == 0)
        {
            return SignalResult.Sent;
        }

        errno = Libc.LastError;
        return errno == Libc.ESRCH ? SignalResult.AlreadyExited : SignalResult.Failed;
    }

    public override async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Timeout.InfiniteTimeSpan (-1 ms) means no deadline, not one already passed.
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        while (!HasExited)
        {
            var left = deadline == DateTime.MaxValue ? Interval : deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            await Task.Delay(left < Interval ? left : Interval, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}

using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// Fallback where pidfd_open is unavailable (kernel before 5.3, a seccomp profile that blocks it). The process is
/// pinned by its open /proc/&lt;pid&gt; directory instead: reads through it fail once that process is reaped, so a
/// recycled PID never answers for it. Exit is detected by polling every 20 ms through that directory (a zombie counts
/// as exited: kill(pid, 0) still succeeds for ~1.3 s on some hosts). Signals go through pidfd_send_signal on the
/// directory (Linux 5.1+), which cannot reach another process. Where that is refused too, the start time and the
/// executable are checked through the directory immediately before kill(2): a recycled PID is caught unless the
/// process exits, is reaped and its number is handed out again within the microseconds between that check and the
/// kill(2) call (docs/events.md, Process identity).
/// </summary>
internal sealed class PollingProcess : TrackedProcess
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly ProcDirHandle? _dir;
    private readonly string? _executable;

    public PollingProcess(int pid, ulong? startTime, ProcDirHandle? dir, string? executable)
        : base(pid, startTime)
    {
        _dir = dir;
        _executable = executable;
    }

    public override string Mechanism => "polling";

    public override bool HasExited
    {
        get
        {
            if (_dir is null)
            {
                return Libc.kill(Pid, 0) != 0 && Libc.LastError == Libc.ESRCH;
            }

            var stat = _dir.IsClosed ? null : _dir.ReadStat(Pid);
            return stat is null || stat.IsDead || (StartTime is { } start && stat.StartTime != start);
        }
    }

    public override SignalResult Signal(int signal, out int errno)
    {
        errno = 0;
        if (_dir is null || _dir.IsClosed)
        {
            // Nothing pins the process (no /proc): refuse rather than signal a number that may have been recycled.
            errno = Libc.EPERM;
            return SignalResult.Failed;
        }

        var stat = _dir.ReadStat(Pid);
        if (stat is null || stat.IsDead)
        {
            return SignalResult.AlreadyExited;
        }

        if ((StartTime is { } start && stat.StartTime != start)
            || (_executable is not null && !string.Equals(_dir.ReadExecutable(), _executable, StringComparison.Ordinal)))
        {
            return SignalResult.IdentityChanged;
        }

        if (_dir.SendSignal(signal) == 0)
        {
            return SignalResult.Sent;
        }

        if (Libc.LastError == Libc.ESRCH)
        {
            return SignalResult.AlreadyExited;
        }

        // ENOSYS (before 5.1) or a seccomp refusal: kill(2) right after the check above.
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

    public override void Dispose()
    {
        _dir?.Dispose();
        base.Dispose();
    }
}

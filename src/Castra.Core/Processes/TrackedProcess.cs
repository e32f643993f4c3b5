using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// A handle on one specific process (the VM's QEMU once its identity is proven): signal it and wait for its exit.
/// Linux 5.3+ uses a pidfd (signals cannot reach a recycled PID; exit is seen at once through epoll);
/// elsewhere, or where pidfd is blocked (old kernels, some seccomp profiles), a polling fallback re-checks the
/// process's start time before every signal.
/// </summary>
internal abstract class TrackedProcess : IDisposable
{
    protected TrackedProcess(int pid, ulong? startTime)
    {
        Pid = pid;
        StartTime = startTime;
    }

    public int Pid { get; }

    /// <summary>/proc start time when opened, if known.</summary>
    public ulong? StartTime { get; }

    /// <summary>"pidfd" or "polling": how exit is detected (shown in diagnostics and the benchmark).</summary>
    public abstract string Mechanism { get; }

    public abstract bool HasExited { get; }

    public abstract SignalResult Signal(int signal, out int errno);

    /// <summary>True when the process exited within <paramref name="timeout"/>.</summary>
    public abstract Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Null when no such process exists (already exited and reaped).</summary>
    public static TrackedProcess? Open(int pid, bool allowPidfd = true)
    {
        var stat = ProcStat.TryRead(pid);
        if (allowPidfd && OperatingSystem.IsLinux())
        {
            var fd = Libc.PidfdOpen(pid);
            if (fd >= 0)
            {
                return new PidfdProcess(pid, stat?.StartTime, new PidfdHandle(fd));
            }

            var errno = Libc.LastError;
            if (errno == Libc.ESRCH)
            {
                return null;
            }

            // ENOSYS (kernel < 5.3), EPERM/EACCES (seccomp): fall through to the polling fallback.
        }

        if (Libc.kill(pid, 0) != 0 && Libc.LastError == Libc.ESRCH)
        {
            return null;
        }

        return new PollingProcess(pid, stat?.StartTime);
    }

    public virtual void Dispose()
    {
        GC.SuppressFinalize(this);
    }
}

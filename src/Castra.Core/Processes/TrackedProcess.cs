using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// A handle on one specific process (the VM's QEMU once its identity is proven): signal it and wait for its exit.
/// Linux 5.3+ uses a pidfd (signals cannot reach a recycled PID; exit is seen at once through epoll);
/// where pidfd_open is blocked (old kernels, some seccomp profiles), a polling fallback pins it by its /proc
/// directory instead. Either way the handle refers to one process, never to whatever later gets the same number.
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

    /// <summary>
    /// Pins the process that has <paramref name="pid"/> now (pidfd, or its /proc directory), then reads its start time
    /// through the pin. Null when no such process exists (already exited and reaped). The process may be a zombie.
    /// </summary>
    public static TrackedProcess? Open(int pid, bool allowPidfd = true)
    {
        if (pid <= 0)
        {
            return null;
        }

        if (allowPidfd && OperatingSystem.IsLinux())
        {
            var fd = Libc.PidfdOpen(pid);
            if (fd >= 0)
            {
                return FromPidfd(new PidfdHandle(fd), pid);
            }

            var errno = Libc.LastError;
            if (errno == Libc.ESRCH)
            {
                return null;
            }

            // ENOSYS (kernel < 5.3), EPERM/EACCES (seccomp): fall through to the polling fallback.
        }

        if (!OperatingSystem.IsLinux())
        {
            return Libc.kill(pid, 0) != 0 && Libc.LastError == Libc.ESRCH ? null : new PollingProcess(pid, null, null, null);
        }

        var dir = ProcDirHandle.TryOpen(pid);
        if (dir?.ReadStat(pid) is not { } stat)
        {
            dir?.Dispose();
            return null;
        }

        return new PollingProcess(pid, stat.StartTime, dir, dir.ReadExecutable());
    }

    /// <summary>
    /// Wraps a pidfd already open on process <paramref name="pid"/> (from pidfd_open or SO_PEERPIDFD; this object
    /// owns it from now on). The start time is read after the pidfd exists, and kept only while the pidfd says the
    /// process is alive, so it is that process's start time and not a successor's.
    /// </summary>
    public static TrackedProcess FromPidfd(PidfdHandle pidfd, int pid)
    {
        var stat = ProcStat.TryRead(pid);
        var alive = !PidfdInfo.HasExited((int)pidfd.DangerousGetHandle());
        return new PidfdProcess(pid, alive ? stat?.StartTime : null, pidfd);
    }

    public virtual void Dispose()
    {
        GC.SuppressFinalize(this);
    }
}

using System.Text;
using Castra.Native;
using Microsoft.Win32.SafeHandles;

namespace Castra.Processes;

/// <summary>
/// An open /proc/&lt;pid&gt; directory: the pidfd of kernels without pidfd_open. Files opened through it belong to the
/// process that had the PID when the directory was opened: once that process is reaped they fail with ESRCH, even
/// if the number has gone to another process. Linux 5.1+ also accepts it as a pidfd for pidfd_send_signal.
/// </summary>
internal sealed class ProcDirHandle : SafeHandleMinusOneIsInvalid
{
    private ProcDirHandle(int fd)
        : base(ownsHandle: true) => SetHandle(fd);

    private int Fd => (int)handle;

    /// <summary>Null when there is no such process (or /proc is not mounted).</summary>
    public static ProcDirHandle? TryOpen(int pid)
    {
        var fd = Libc.open(ProcFiles.PathOf(pid, ""), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        return fd < 0 ? null : new ProcDirHandle(fd);
    }

    /// <summary>The pinned process's /proc stat, or null once it is reaped.</summary>
    public ProcStat? ReadStat(int pid)
    {
        var raw = Libc.ReadAt(Fd, "stat", 4096);
        return raw is null ? null : ProcStat.Parse(pid, Encoding.UTF8.GetString(raw));
    }

    /// <summary>The pinned process's executable (without " (deleted)"), or null when unreadable or reaped.</summary>
    public string? ReadExecutable() => ProcFiles.StripDeleted(Libc.ReadLinkAt(Fd, "exe"));

    /// <summary>pidfd_send_signal through this directory: 0, or -1 with errno (ENOSYS before 5.1, EPERM under seccomp).</summary>
    public int SendSignal(int signal) => Libc.PidfdSendSignal(Fd, signal);

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}

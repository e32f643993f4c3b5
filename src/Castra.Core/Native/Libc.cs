using System.Runtime.InteropServices;

namespace Castra.Native;

/// <summary>The few libc/syscall entry points .NET does not expose: pidfd, epoll, flock, kill.</summary>
internal static partial class Libc
{
    private const string Lib = "libc";

    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EPERM = 1;
    public const int ENOSYS = 38;

    // pidfd syscalls have the same numbers on every Linux architecture (allocated after the syscall table unification).
    private const long SYS_pidfd_send_signal = 424;
    private const long SYS_pidfd_open = 434;

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLONESHOT = 1u << 30;

    public const short POLLIN = 0x001;

    public const int _SC_CLK_TCK = 2;

    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    public static partial int flock(int fd, int operation);

    [LibraryImport(Lib, EntryPoint = "kill", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, EntryPoint = "sysconf", SetLastError = true)]
    public static partial long sysconf(int name);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall2(long number, long arg1, long arg2);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall4(long number, long arg1, long arg2, long arg3, long arg4);

    [LibraryImport(Lib, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Lib, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static unsafe partial int epoll_ctl(int epfd, int op, int fd, byte* evt);

    [LibraryImport(Lib, EntryPoint = "epoll_wait", SetLastError = true)]
    public static unsafe partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int poll(PollFd* fds, ulong nfds, int timeout);

    [LibraryImport(Lib, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport(Lib, EntryPoint = "free")]
    private static partial void free(IntPtr ptr);

    /// <summary>The canonical path (symlinks resolved), or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <returns>A pidfd, or -1 with errno set (ESRCH: no such process; ENOSYS: kernel older than 5.3).</returns>
    public static int PidfdOpen(int pid) => (int)syscall2(SYS_pidfd_open, pid, 0);

    public static int PidfdSendSignal(int pidfd, int sig) => (int)syscall4(SYS_pidfd_send_signal, pidfd, sig, 0, 0);

    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>struct epoll_event is packed (12 bytes) on x86-64 only; elsewhere the 64-bit data field is aligned.</summary>
    public static int EpollEventSize => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static int EpollDataOffset => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}

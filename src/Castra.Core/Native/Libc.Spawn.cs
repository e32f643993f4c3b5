using System.Runtime.InteropServices;

namespace Castra.Native;

/// <summary>
/// posix_spawn(3), waitpid(2) and process-group signals: what hooks and sessions need and .NET's Process lacks
/// (a new process group set at spawn time, output straight to a file, signal dispositions reset).
/// </summary>
internal static partial class Libc
{
    public const int SIGHUP = 1;
    public const int SIGCONT = 18;

    public const short POSIX_SPAWN_SETPGROUP = 0x02;
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_CREAT = 0x40;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_CLOEXEC = 0x80000;

    public const int WNOHANG = 1;
    public const int ECHILD = 10;

    // glibc's opaque sizes on 64-bit Linux are 336 (attr), 80 (file actions) and 128 (sigset_t); allocated generously.
    public const int SpawnAttrSize = 1024;
    public const int SpawnFileActionsSize = 512;
    public const int SigSetSize = 256;

    [LibraryImport(Lib, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn(out int pid, string path, IntPtr fileActions, IntPtr attr, IntPtr[] argv, IntPtr[] envp);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_init")]
    public static partial int posix_spawnattr_init(IntPtr attr);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_destroy")]
    public static partial int posix_spawnattr_destroy(IntPtr attr);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setflags")]
    public static partial int posix_spawnattr_setflags(IntPtr attr, short flags);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setpgroup")]
    public static partial int posix_spawnattr_setpgroup(IntPtr attr, int pgroup);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int posix_spawnattr_setsigmask(IntPtr attr, IntPtr sigset);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int posix_spawnattr_setsigdefault(IntPtr attr, IntPtr sigset);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int posix_spawn_file_actions_init(IntPtr actions);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int posix_spawn_file_actions_destroy(IntPtr actions);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addopen(IntPtr actions, int fd, string path, int oflag, int mode);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int posix_spawn_file_actions_adddup2(IntPtr actions, int fd, int newfd);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addchdir_np(IntPtr actions, string path);

    [LibraryImport(Lib, EntryPoint = "sigemptyset")]
    public static partial int sigemptyset(IntPtr set);

    [LibraryImport(Lib, EntryPoint = "sigfillset")]
    public static partial int sigfillset(IntPtr set);

    [LibraryImport(Lib, EntryPoint = "sigdelset")]
    public static partial int sigdelset(IntPtr set, int signal);

    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int waitpid(int pid, out int status, int options);

    [LibraryImport(Lib, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int access(string path, int mode);

    public const int X_OK = 1;

    public const int O_RDWR = 2;

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    /// <summary>Signals every process of a group (kill(2) with a negative PID).</summary>
    public static int KillGroup(int pgid, int signal) => kill(-pgid, signal);
}

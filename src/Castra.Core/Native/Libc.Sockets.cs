using System.Runtime.InteropServices;

namespace Castra.Native;

/// <summary>
/// What proving a socket's owner needs: the peer-credential socket options and netlink sock_diag (which listening
/// Unix socket is bound to which file).
/// </summary>
internal static partial class Libc
{
    public const int SOL_SOCKET = 1;

    /// <summary>Linux 6.5+: a pidfd of the peer (for a connection to a listener: of the process that called listen()).</summary>
    public const int SO_PEERPIDFD = 77;

    public const int AF_UNIX = 1;
    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_SOCK_DIAG = 4;

    /// <summary>SO_PEERCRED is 17 in asm-generic (x86-64, arm64, riscv, …) but 21 on powerpc.</summary>
    public static int SO_PEERCRED => RuntimeInformation.ProcessArchitecture == Architecture.Ppc64le ? 21 : 17;

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "send", SetLastError = true)]
    public static unsafe partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Lib, EntryPoint = "recv", SetLastError = true)]
    public static unsafe partial nint recv(int fd, byte* buffer, nint length, int flags);
}

using System.Runtime.InteropServices;

namespace Castra.Native;

/// <summary>
/// The *at(2) family, statx(2) and plain read/write: what opening state files relative to a checked directory
/// descriptor needs (no link followed, no path re-walked), which .NET's path-based File API cannot express.
/// </summary>
internal static partial class Libc
{
    public const int O_EXCL = 0x80;
    public const int O_NONBLOCK = 0x800;

    /// <summary>O_DIRECTORY and O_NOFOLLOW differ on ARM (asm-generic uses the x86 values).</summary>
    public static readonly int O_DIRECTORY = IsArm ? 0x4000 : 0x10000;

    public static readonly int O_NOFOLLOW = IsArm ? 0x8000 : 0x20000;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_EMPTY_PATH = 0x1000;

    public const int STATX_BASIC_STATS = 0x7ff;

    public const int S_IFMT = 0xF000;
    public const int S_IFREG = 0x8000;
    public const int S_IFDIR = 0x4000;
    public const int S_IFLNK = 0xA000;
    public const int S_IFSOCK = 0xC000;
    public const int S_IFIFO = 0x1000;

    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;
    public const int ENOSPC = 28;

    private static bool IsArm => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    [LibraryImport(Lib, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int openat(int dirfd, string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdirat(int dirfd, string path, int mode);

    [LibraryImport(Lib, EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int renameat(int olddirfd, string oldpath, int newdirfd, string newpath);

    [LibraryImport(Lib, EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlinkat(int dirfd, string path, int flags);

    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Lib, EntryPoint = "fsync", SetLastError = true)]
    public static partial int fsync(int fd);

    /// <summary>Flushes the whole file system that holds <paramref name="fd"/>: one call for every file and rename on it.</summary>
    [LibraryImport(Lib, EntryPoint = "syncfs", SetLastError = true)]
    public static partial int syncfs(int fd);

    [LibraryImport(Lib, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int fchmod(int fd, int mode);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport(Lib, EntryPoint = "geteuid")]
    public static partial uint geteuid();

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, EntryPoint = "pread", SetLastError = true)]
    private static unsafe partial nint pread(int fd, byte* buffer, nint count, long offset);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint writeRaw(int fd, byte* buffer, nint count);

    /// <summary>What statx(2) says of a file: enough to refuse links, FIFOs, devices, foreign owners and hard links.</summary>
    public readonly record struct FileStat(int Mode, uint Uid, uint Nlink, long Size, ulong Inode, ulong Device)
    {
        public int Type => Mode & S_IFMT;

        public bool IsRegular => Type == S_IFREG;

        public bool IsDirectory => Type == S_IFDIR;

        public bool IsLink => Type == S_IFLNK;

        public bool IsSocket => Type == S_IFSOCK;
    }

    /// <summary>statx of <paramref name="fd"/> itself (AT_EMPTY_PATH); -1 with errno on failure.</summary>
    public static int FStat(int fd, out FileStat stat) => StatAt(fd, "", AT_EMPTY_PATH, out stat);

    /// <summary>statx of <paramref name="name"/> in <paramref name="dirfd"/>, never following a final link.</summary>
    public static int LStatAt(int dirfd, string name, out FileStat stat) => StatAt(dirfd, name, AT_SYMLINK_NOFOLLOW, out stat);

    private static unsafe int StatAt(int dirfd, string name, int flags, out FileStat stat)
    {
        // struct statx is 256 bytes with a fixed layout on every architecture (unlike struct stat).
        var buffer = stackalloc byte[256];
        var rc = statx(dirfd, name, flags, STATX_BASIC_STATS, buffer);
        if (rc != 0)
        {
            stat = default;
            return rc;
        }

        var devMajor = *(uint*)(buffer + 136);
        var devMinor = *(uint*)(buffer + 140);
        stat = new FileStat(
            Mode: *(ushort*)(buffer + 28),
            Uid: *(uint*)(buffer + 20),
            Nlink: *(uint*)(buffer + 16),
            Size: (long)*(ulong*)(buffer + 40),
            Inode: *(ulong*)(buffer + 32),
            Device: ((ulong)devMajor << 32) | devMinor);
        return 0;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or end of file; -1 with errno on failure.</summary>
    public static unsafe int ReadFull(int fd, Span<byte> buffer, long? offset = null)
    {
        var total = 0;
        fixed (byte* start = buffer)
        {
            while (total < buffer.Length)
            {
                var n = offset is { } at
                    ? pread(fd, start + total, buffer.Length - total, at + total)
                    : read(fd, start + total, buffer.Length - total);
                if (n < 0)
                {
                    if (LastError == EINTR)
                    {
                        continue;
                    }

                    return -1;
                }

                if (n == 0)
                {
                    break;
                }

                total += (int)n;
            }
        }

        return total;
    }

    /// <summary>Writes all of <paramref name="data"/> (retrying short writes); -1 with errno on failure.</summary>
    public static unsafe int WriteFull(int fd, ReadOnlySpan<byte> data)
    {
        var written = 0;
        fixed (byte* start = data)
        {
            while (written < data.Length)
            {
                var n = writeRaw(fd, start + written, data.Length - written);
                if (n < 0)
                {
                    if (LastError == EINTR)
                    {
                        continue;
                    }

                    return -1;
                }

                written += (int)n;
            }
        }

        return written;
    }
}

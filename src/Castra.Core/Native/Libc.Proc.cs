using System.Runtime.InteropServices;
using System.Text;

namespace Castra.Native;

/// <summary>
/// Bounded, allocation-light reads of /proc: readlink for the thousands of fd links a socket-holder scan visits, and
/// openat/readlinkat relative to a /proc/&lt;pid&gt; directory fd, which fail with ESRCH once that very process is
/// reaped (so a recycled PID can never answer in its place).
/// </summary>
internal static partial class Libc
{
    [LibraryImport(Lib, EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint readlink(string path, byte* buffer, nint size);

    [LibraryImport(Lib, EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint readlinkat(int dirfd, string path, byte* buffer, nint size);

    /// <summary>The link's target (at most 4095 bytes), or null with errno set.</summary>
    public static unsafe string? ReadLink(string path)
    {
        const int size = 4096;
        var buffer = stackalloc byte[size];
        var n = readlink(path, buffer, size - 1);
        return n < 0 ? null : Encoding.UTF8.GetString(buffer, (int)n);
    }

    /// <summary>readlinkat(2): the link's target (at most 4095 bytes), or null with errno set.</summary>
    public static unsafe string? ReadLinkAt(int dirfd, string path)
    {
        const int size = 4096;
        var buffer = stackalloc byte[size];
        var n = readlinkat(dirfd, path, buffer, size - 1);
        return n < 0 ? null : Encoding.UTF8.GetString(buffer, (int)n);
    }

    /// <summary>Reads at most <paramref name="max"/> bytes of a file relative to a directory fd; null with errno set.</summary>
    public static unsafe byte[]? ReadAt(int dirfd, string path, int max)
    {
        var fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }

        try
        {
            // /proc files have no length: read until EOF or the bound, growing from a size that fits most.
            var buffer = new byte[Math.Min(max, 4096)];
            var total = 0;
            while (total < max)
            {
                if (total == buffer.Length)
                {
                    Array.Resize(ref buffer, (int)Math.Min(max, buffer.Length * 4L));
                }

                nint n;
                fixed (byte* start = buffer)
                {
                    n = read(fd, start + total, buffer.Length - total);
                }

                if (n < 0 && LastError == EINTR)
                {
                    continue;
                }

                if (n < 0)
                {
                    return null;
                }

                if (n == 0)
                {
                    break;
                }

                total += (int)n;
            }

            return total == buffer.Length ? buffer : buffer[..total];
        }
        finally
        {
            _ = close(fd);
        }
    }
}

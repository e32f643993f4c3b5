using System.Globalization;
using System.Text;
using Castra.Native;

namespace Castra.Processes;

/// <summary>Bounded reads of /proc/&lt;pid&gt;/… files: identity code never reads more than it needs, and never throws.</summary>
internal static class ProcFiles
{
    /// <summary>A QEMU command line with hundreds of -device options stays far below this.</summary>
    public const int MaxCommandLineBytes = 256 * 1024;

    public static string PathOf(int pid, string file) => $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/{file}";

    /// <summary>At most <paramref name="max"/> bytes of the file, or null when it cannot be read.</summary>
    public static byte[]? ReadBounded(string path, int max)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

            // /proc files have no length: read until EOF (0) or the bound, growing from a size that fits most.
            var buffer = new byte[Math.Min(max, 4096)];
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length == max)
                    {
                        break;
                    }

                    Array.Resize(ref buffer, (int)Math.Min(max, buffer.Length * 4L));
                }

                var n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total == buffer.Length ? buffer : buffer[..total];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The NUL-separated arguments of a process (empty for kernel threads, zombies and unreadable ones).</summary>
    public static IReadOnlyList<string> CommandLine(int pid)
    {
        var raw = ReadBounded(PathOf(pid, "cmdline"), MaxCommandLineBytes);
        return raw is null ? [] : Encoding.UTF8.GetString(raw).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// The program the process runs (/proc/PID/exe), without the " (deleted)" the kernel appends once the file was
    /// replaced or removed (a QEMU whose package was upgraded while it runs is still that QEMU). Null when unreadable
    /// (another user's process without CAP_SYS_PTRACE, a kernel thread).
    /// </summary>
    public static string? Executable(int pid) => StripDeleted(Libc.ReadLink(PathOf(pid, "exe")));

    public static string? StripDeleted(string? target)
    {
        const string deleted = " (deleted)";
        return target is not null && target.EndsWith(deleted, StringComparison.Ordinal) ? target[..^deleted.Length] : target;
    }
}

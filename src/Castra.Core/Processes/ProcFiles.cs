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
    /// <remarks>open, read, close: .NET's FileStream would add a shared flock and its release to every /proc read.</remarks>
    public static byte[]? ReadBounded(string path, int max) => Libc.ReadAt(Libc.AT_FDCWD, path, max);

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

using System.Globalization;
using System.IO.Enumeration;
using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// Which sockets a process holds: /proc/PID/fd/N links read "socket:[inode]". Holding the VM's listening socket is
/// the fact that survives forks and PID reuse (the kernel's peer credentials only name who called listen()).
/// Bounded: at most <see cref="MaxFdsPerProcess"/> descriptors per process and <see cref="MaxProcesses"/> processes.
/// </summary>
internal static class FdTable
{
    public const int MaxFdsPerProcess = 65536;
    public const int MaxProcesses = 1 << 18;

    /// <summary>
    /// The wall-clock bound of one whole-/proc scan: a host with thousands of processes is scanned in well under a
    /// second, and a VM owner who starts many processes holding many descriptors cannot stretch a shutdown with it.
    /// </summary>
    public static readonly TimeSpan ScanBudget = TimeSpan.FromSeconds(2);

    private static readonly EnumerationOptions Options = new()
    {
        IgnoreInaccessible = true,
        RecurseSubdirectories = false,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    /// <summary>True when the process holds one of the sockets; false when it does not or its fds cannot be read.</summary>
    public static bool Holds(int pid, IReadOnlySet<ulong> inodes)
    {
        if (inodes.Count == 0)
        {
            return false;
        }

        var dir = ProcFiles.PathOf(pid, "fd");
        try
        {
            var seen = 0;
            foreach (var name in new FileSystemEnumerable<string>(dir, (ref FileSystemEntry entry) => entry.FileName.ToString(), Options))
            {
                if (++seen > MaxFdsPerProcess)
                {
                    return false;
                }

                if (SocketInode(Libc.ReadLink($"{dir}/{name}")) is { } inode && inodes.Contains(inode))
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return false;
    }

    /// <summary>
    /// Every visible process that holds one of the sockets (a scan of all of /proc: only for the rare case where the
    /// process that listened has gone and someone else holds its socket).
    /// </summary>
    public static IReadOnlyList<int> Holders(IReadOnlySet<ulong> inodes)
    {
        var holders = new List<int>();
        if (inodes.Count == 0)
        {
            return holders;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var visited = 0;
            foreach (var name in new FileSystemEnumerable<string>("/proc", (ref FileSystemEntry entry) => entry.FileName.ToString(), Options))
            {
                if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    continue;
                }

                if (++visited > MaxProcesses || System.Diagnostics.Stopwatch.GetElapsedTime(started) > ScanBudget)
                {
                    break; // What was found so far is all there is: an unfound holder is an unproven one.
                }

                if (pid != Environment.ProcessId && Holds(pid, inodes))
                {
                    holders.Add(pid);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return holders;
    }

    /// <summary>The N of "socket:[N]", or null for any other link.</summary>
    public static ulong? SocketInode(string? link) =>
        link is not null && link.StartsWith("socket:[", StringComparison.Ordinal) && link.EndsWith(']')
        && ulong.TryParse(link.AsSpan(8, link.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
            ? inode
            : null;
}

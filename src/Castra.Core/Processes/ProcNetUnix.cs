using System.Globalization;

namespace Castra.Processes;

/// <summary>
/// The weaker fallback for <see cref="SockDiag"/> (where unix_diag is missing or netlink is blocked): listening
/// sockets from /proc/net/unix, matched by the path they were bound to. A path is only a spelling: a socket whose
/// file was unlinked keeps showing it, so a match proves less than sock_diag's device and inode.
/// </summary>
internal static class ProcNetUnix
{
    private const int MaxLines = 1_000_000;
    private const int SO_ACCEPTCON = 0x10000;

    /// <summary>Inodes of the listening sockets bound to <paramref name="path"/>, or null when the table cannot be read.</summary>
    public static IReadOnlySet<ulong>? ListenersBoundTo(string path)
    {
        try
        {
            var found = new HashSet<ulong>();
            using var reader = new StreamReader("/proc/net/unix");
            reader.ReadLine(); // header
            var lines = 0;
            while (reader.ReadLine() is { } line)
            {
                if (++lines > MaxLines)
                {
                    return null;
                }

                // Num RefCount Protocol Flags Type St Inode Path
                var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 8
                    && int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags) && (flags & SO_ACCEPTCON) != 0
                    && string.Equals(fields[7], path, StringComparison.Ordinal)
                    && ulong.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                {
                    found.Add(inode);
                }
            }

            return found;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

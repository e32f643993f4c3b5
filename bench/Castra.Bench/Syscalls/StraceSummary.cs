using System.Globalization;

namespace Castra.Bench.Syscalls;

/// <summary>The table `strace -c` writes: calls per system call, over every thread (-f) of the traced process.</summary>
internal sealed record StraceSummary(IReadOnlyDictionary<string, long> Calls)
{
    /// <summary>Every call that asks the disk to persist data: the figure the durability promise is about.</summary>
    public static readonly string[] SyncCalls = ["fsync", "fdatasync", "sync_file_range", "syncfs", "sync"];

    public long Total => Calls.Values.Sum();

    public long Syncs => SyncCalls.Sum(c => Calls.GetValueOrDefault(c));

    /// <summary>
    /// Parses the rows between the header and the "total" row: "% time seconds usecs/call calls [errors] syscall".
    /// The errors column is empty for calls that never failed, so the count is the fourth field and the name the last.
    /// </summary>
    public static StraceSummary Parse(string text)
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length is < 5 or > 6 || fields[^1] == "total" || fields[^1] == "syscall" ||
                !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _) ||
                !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                continue;
            }

            calls[fields[^1]] = calls.GetValueOrDefault(fields[^1]) + count;
        }

        return calls.Count > 0 ? new StraceSummary(calls) : throw new FormatException("no strace -c table in: " + text);
    }
}

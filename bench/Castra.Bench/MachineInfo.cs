using System.Globalization;
using System.Runtime.InteropServices;

namespace Castra.Bench;

/// <summary>What the figures were measured on: they mean little without it.</summary>
/// <param name="BusyPercentBefore">How busy the CPUs were (all processes) in the 2 s before the benchmark started: others' work skews every figure.</param>
internal sealed record MachineInfo(int Cores, double MemoryGiB, string Os, string Runtime, string StateFileSystem, long OpenFilesLimit, double LoadAverage1m, double BusyPercentBefore)
{
    public static MachineInfo Read(string stateDirectory) => new(
        Environment.ProcessorCount,
        Math.Round(MeminfoKB("MemTotal") / 1024.0 / 1024.0, 1),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        FileSystemOf(stateDirectory),
        ReadOpenFilesLimit(),
        LoadAverage(),
        BusyPercent(TimeSpan.FromSeconds(2)));

    public override string ToString() =>
        $"{Cores} cores, {MemoryGiB.ToString("0.0", CultureInfo.InvariantCulture)} GiB, {Os}, {Runtime}, state root on {StateFileSystem}, " +
        $"open-file limit {OpenFilesLimit.ToString(CultureInfo.InvariantCulture)}, load {LoadAverage1m.ToString("0.00", CultureInfo.InvariantCulture)} at start, " +
        $"CPUs {BusyPercentBefore.ToString("0", CultureInfo.InvariantCulture)} % busy (other processes) in the 2 s before";

    private static long MeminfoKB(string field)
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>The mount holding the directory (longest matching mount point): fsync costs depend on it.</summary>
    private static string FileSystemOf(string directory)
    {
        var best = ("", "unknown", "");
        foreach (var line in File.ReadLines("/proc/mounts"))
        {
            var parts = line.Split(' ');
            if (parts.Length >= 3 && directory.StartsWith(parts[1], StringComparison.Ordinal) && parts[1].Length >= best.Item1.Length)
            {
                best = (parts[1], parts[2], parts[0]);
            }
        }

        return $"{best.Item2} ({best.Item3} at {best.Item1}, directory {directory})";
    }

    /// <summary>The soft RLIMIT_NOFILE this process runs with (.NET raises the soft limit to the hard one at start-up).</summary>
    private static long ReadOpenFilesLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : -1;
            }
        }

        return -1;
    }

    /// <summary>Share of non-idle CPU time over <paramref name="window"/>, from /proc/stat's aggregate line.</summary>
    private static double BusyPercent(TimeSpan window)
    {
        static (long Busy, long Total) Sample()
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0); // idle + iowait
            var total = fields.Take(8).Sum();                           // user … steal (guest time is already in user)
            return (total - idle, total);
        }

        var before = Sample();
        Thread.Sleep(window);
        var after = Sample();
        var total = after.Total - before.Total;
        return total <= 0 ? 0 : Math.Round(100.0 * (after.Busy - before.Busy) / total, 1);
    }

    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}

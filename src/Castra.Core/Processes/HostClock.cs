using System.Globalization;
using Castra.Native;

namespace Castra.Processes;

/// <summary>Turns /proc start times (clock ticks since boot) into wall-clock times, and knows which boot this is.</summary>
internal static class HostClock
{
    private static readonly Lazy<string?> BootIdValue = new(() =>
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    });

    private static readonly Lazy<long> TicksPerSecond = new(() =>
    {
        var ticks = OperatingSystem.IsLinux() ? Libc.sysconf(Libc._SC_CLK_TCK) : 0;
        return ticks > 0 ? ticks : 100;
    });

    private static readonly Lazy<DateTimeOffset?> BootTime = new(() =>
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                if (line.StartsWith("btime ", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(6).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    return DateTimeOffset.FromUnixTimeSeconds(seconds);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    });

    public static string? BootId => BootIdValue.Value;

    /// <summary>Second-resolution (btime) plus tick resolution: good enough for uptime, never used for identity.</summary>
    public static DateTime? ToWallClock(ulong startTimeTicks) =>
        BootTime.Value is { } boot ? boot.UtcDateTime.AddSeconds((double)startTimeTicks / TicksPerSecond.Value) : null;
}

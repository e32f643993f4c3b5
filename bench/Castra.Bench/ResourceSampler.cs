using System.Diagnostics;
using System.Globalization;

namespace Castra.Bench;

/// <summary>
/// Resources of this (the orchestrating) process during one run: peak RSS from the kernel's own high-water mark
/// (VmHWM, reset at the start through /proc/self/clear_refs so an earlier, larger run does not show), peak thread
/// count sampled every 10 ms (a thread that lives less than that can be missed), and CPU time (user + system).
/// </summary>
internal sealed class ResourceSampler : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    private readonly Timer _timer;
    private readonly TimeSpan _cpuAtStart;
    private readonly TimeSpan _userAtStart;
    private readonly bool _hwmReset;
    private int _peakThreads;

    private ResourceSampler()
    {
        _hwmReset = TryResetPeakRss();
        using (var self = Process.GetCurrentProcess())
        {
            _cpuAtStart = self.TotalProcessorTime;
            _userAtStart = self.UserProcessorTime;
        }

        Sample();
        _timer = new Timer(_ => Sample(), null, Interval, Interval);
    }

    public static ResourceSampler Start() => new();

    public ResourceUsage Stop()
    {
        _timer.Dispose();
        Sample();
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime - _cpuAtStart;
        var user = self.UserProcessorTime - _userAtStart;
        var status = ReadStatus();
        return new ResourceUsage(
            PeakRssMB: Math.Round(status.GetValueOrDefault("VmHWM") / 1024.0, 1),
            PeakThreads: Volatile.Read(ref _peakThreads),
            CpuMs: Math.Round(cpu.TotalMilliseconds),
            UserCpuMs: Math.Round(user.TotalMilliseconds),
            PeakRssSinceRunStart: _hwmReset);
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var threads = (int)ReadStatus().GetValueOrDefault("Threads");
        int seen;
        do
        {
            seen = Volatile.Read(ref _peakThreads);
        }
        while (threads > seen && Interlocked.CompareExchange(ref _peakThreads, threads, seen) != seen);
    }

    private static bool TryResetPeakRss()
    {
        try
        {
            // "5" resets VmHWM to the current RSS (Linux 4.0+).
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The numeric fields of /proc/self/status (kB for sizes).</summary>
    private static Dictionary<string, long> ReadStatus()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var number = line[(colon + 1)..].Trim().Split(' ')[0];
            if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                values[line[..colon]] = value;
            }
        }

        return values;
    }
}

/// <summary>CpuMs is user + system time; the rest of CpuMs beyond UserCpuMs is time in the kernel (file and socket calls).</summary>
internal sealed record ResourceUsage(double PeakRssMB, int PeakThreads, double CpuMs, double UserCpuMs, bool PeakRssSinceRunStart);

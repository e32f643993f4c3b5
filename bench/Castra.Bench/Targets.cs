using System.Globalization;

namespace Castra.Bench;

/// <summary>One target of issues 6 and 14, checked against this run's figures (Pass is null when the run did not measure it).</summary>
internal sealed record TargetCheck(string Target, string Measured, bool? Pass);

/// <summary>The issue's targets. The benchmark reports them; it never fails on them: people judge.</summary>
internal static class Targets
{
    public static IReadOnlyList<TargetCheck> Check(IReadOnlyList<RunResult> runs, int d, CliColdStartResult? cli = null, Guest.GuestResult? guest = null, Syscalls.SyscallResult? syscalls = null)
    {
        RunResult? Find(string scenario, string driver, int n) =>
            runs.FirstOrDefault(r => r.Scenario == scenario && r.Driver == driver && r.Vms == n && !r.Extrapolated);

        var s1At100 = Find("graceful", "castra", 100);
        var s1At1000 = Find("graceful", "castra", 1000);
        var s2At1000 = Find("mixed", "castra", 1000);
        var shellAt100 = Find("graceful", "shell-loop", 100);
        return
        [
            Limit("Scenario 1, N=100: fleet wall ≤ D + 100 ms", s1At100?.WallMs, d + 100, "ms"),
            Limit("Scenario 1, N=100: per-VM overhead p99 ≤ 20 ms", s1At100?.OverheadMs?.P99, 20, "ms"),
            Limit("Scenario 1, N=100: exit-detection median ≤ 2 ms", s1At100?.ExitDetectionMs?.Median, 2, "ms"),
            Limit("Scenario 1, N=1000: fleet wall ≤ D + 1 s", s1At1000?.WallMs, d + 1000, "ms"),
            Limit("Scenario 1, N=1000: orchestrator peak RSS ≤ 150 MB", s1At1000?.Resources?.PeakRssMB, 150, "MB"),
            Limit("Scenario 1, N=1000: orchestrator threads ≤ 64", s1At1000?.Resources?.PeakThreads, 64, ""),
            Limit("Scenario 2, N=1000: fleet wall ≤ worst path + 1 s", s2At1000?.WallMs, s2At1000 is null ? 0 : s2At1000.IdealMs + 1000, "ms"),
            AtLeast("≥ 50× faster than baseline (a) at N=100, scenario 1", shellAt100 is null || s1At100 is null ? null : shellAt100.WallMs / s1At100.WallMs, 50),
            Limit("Scenario 1, N=1000: per-VM overhead p99 ≤ 50 ms", s1At1000?.OverheadMs?.P99, 50, "ms"),
            .. IssueFourteen(cli, guest, syscalls),
        ];
    }

    /// <summary>Issue 14's user-visible targets: medians over the interleaved runs; per VM as the slope between fleet sizes.</summary>
    private static IEnumerable<TargetCheck> IssueFourteen(CliColdStartResult? cli, Guest.GuestResult? guest, Syscalls.SyscallResult? syscalls)
    {
        Guest.GuestDriverSummary? Driver(string prefix) => guest?.Drivers.FirstOrDefault(s => s.Driver.StartsWith(prefix, StringComparison.Ordinal));
        var native = cli?.Variants.FirstOrDefault(v => v.Name.StartsWith("native", StringComparison.Ordinal));
        var slope = syscalls is { Slopes.Count: > 0 } ? syscalls.Slopes[^1] : null;
        yield return Limit("castra status, whole process (native), median ≤ 20 ms", native?.WallMs?.Median, 20, "ms");
        yield return Limit("castra down NAME (native), one ACPI guest, whole process − guest power-off, median ≤ 30 ms", Driver("castra down (native)")?.OverheadMs?.Median, 30, "ms");
        yield return Limit("Stop-CastraVm (warm pwsh), same guest, cmdlet − guest power-off, median ≤ 10 ms", Driver("Stop-CastraVm (warm")?.OverheadMs?.Median, 10, "ms");
        yield return Limit($"syscalls per VM, castra down --all graceful (per added VM{(slope is null ? "" : $", N={slope.FromVms}→{slope.ToVms}")}) ≤ 80", slope?.PerVm, 80, "");
        yield return Limit("fsyncs per VM, graceful path ≤ 1", slope?.SyncsPerVm, 1, "");
    }

    private static TargetCheck Limit(string target, double? measured, double limit, string unit) =>
        measured is { } m
            ? new TargetCheck(target, $"{F(m)} {unit} (limit {F(limit)})".Replace("  ", " ", StringComparison.Ordinal), m <= limit)
            : new TargetCheck(target, "not measured in this run", null);

    private static TargetCheck AtLeast(string target, double? measured, double floor) =>
        measured is { } m ? new TargetCheck(target, $"{F(m)}×", m >= floor) : new TargetCheck(target, "not measured in this run", null);

    private static string F(double v) => v.ToString(v >= 100 ? "0" : "0.##", CultureInfo.InvariantCulture);
}

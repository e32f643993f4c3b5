using System.Text.Json;
using Castra.Bench;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>
/// Proves in CI that bench/Castra.Bench still runs end to end (fleet, engine, both baselines, report, JSON) on a
/// tiny fleet with one VM of each behaviour. Correctness only: timing is reported by the benchmark, never asserted.
/// In-process rather than `bench --vms 3` in build.sh, so a failure names the VM and path that went wrong.
/// </summary>
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task Every_vm_of_a_tiny_mixed_fleet_takes_the_path_its_behaviour_dictates_in_every_driver()
    {
        var options = new BenchOptions
        {
            Sizes = [3],
            Mixes = [FleetMix.Parse("graceful:34,ignore-acpi:33,ignore-term:33")],
            ExitDelayMs = 100,
            BaselineMaxVms = 3,
            // The user-view sections have their own smoke tests (UserViewBenchSmokeTests, with the real guests).
            MeasureCli = false,
            MeasureGuest = false,
            MeasureSyscalls = false,
            WarmUp = false,
        };
        var tools = NativeTools.Prepare(FakeQemuBinary.Path);
        using var progress = new StringWriter();

        var report = await new BenchRunner(options, tools, progress).RunAsync("smoke test", CancellationToken.None);

        Assert.Equal(["castra", "castra-throttle-1", "shell-loop"], report.Runs.Select(r => r.Driver).ToArray());
        Assert.All(report.Runs, run =>
        {
            Assert.True(run.PathsCorrect == run.Vms, $"{run.Driver}: {string.Join("; ", run.PathMismatches)}");
            Assert.False(run.Extrapolated);
        });
        var castra = report.Runs[0];
        Assert.NotNull(castra.Resources);
        Assert.Equal(2, castra.ExitDetectionMs!.Count); // graceful and ignore-acpi exit by themselves; ignore-term is killed
        Assert.NotEmpty(report.Targets);

        var json = Report.ToJson(report);
        using (var document = JsonDocument.Parse(json))
        {
            Assert.Equal(3, document.RootElement.GetProperty("runs").GetArrayLength());
        }

        Assert.Equal(report.Runs.Count, Report.FromJson(json)!.Runs.Count);
        Assert.Contains("Targets (issues 6 and 14):", Report.ToTable(report), StringComparison.Ordinal);
    }
}

using System.Text.Json;
using Castra.Bench;
using Castra.Bench.Guest;
using Castra.Bench.Syscalls;
using Castra.Tests.RealQemu;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>
/// The benchmark's user-view drivers (docs/performance.md), once each, in CI: `castra status` native and JIT, the
/// real tiny guest stopped by every driver that can run here, and strace's counts of `castra down --all`.
/// Correctness only (the right path, every figure present, the report prints and round-trips); never a timing.
/// They run the shipped artifacts, so they need `./build.sh build` like the CLI tests.
/// </summary>
[Collection(RealQemuGroup.Name)]
public sealed class UserViewBenchSmokeTests
{
    private static CastraBuild Build()
    {
        _ = NativeCli.Path; // fails with the CLI tests' message when the native binary is missing or stale
        return CastraBuild.Find() ?? throw new InvalidOperationException("no Castra.sln above the tests");
    }

    [Fact]
    public async Task Castra_status_runs_native_and_jit_and_only_the_jit_build_compiles_methods()
    {
        var result = await CliColdStart.MeasureAsync(Build(), NativeTools.Prepare(FakeQemuBinary.Path), Path.GetTempPath(), includeReadyToRun: false, runs: 1, CancellationToken.None);

        Assert.Null(result.Problem);
        Assert.Equal(["native (Native AOT)", "JIT (dotnet castra.dll)"], result.Variants.Select(v => v.Name).ToArray());
        Assert.All(result.Variants, v => Assert.Equal(1, v.WallMs!.Count));
        Assert.Equal(0, result.Variants[0].JitCompiled);
        Assert.True(result.Variants[1].JitCompiled > 0, "the JIT build reported no JIT-compiled method: DOTNET_JitStdOutFile was not honoured");
    }

    [Fact]
    public async Task Every_driver_that_can_run_here_stops_the_real_guest_gracefully_and_the_others_say_why_not()
    {
        var build = Build();
        var work = Directory.CreateTempSubdirectory("castra-guest-smoke-").FullName;
        using var progress = new StringWriter();
        try
        {
            var drivers = GuestSection.AllDrivers();
            var result = await GuestSection.RunAsync(new GuestEnvironment(build, NativeTools.Prepare(FakeQemuBinary.Path), work), drivers, rounds: 1, progress, CancellationToken.None, warmUpRounds: 0);

            Assert.Equal(drivers.Count, result.Drivers.Count);
            foreach (var driver in result.Drivers)
            {
                if (driver.Runs == 0)
                {
                    // Only libvirt is optional (CI does not install it); everything else ships with ./build.sh setup.
                    Assert.StartsWith("virsh", driver.Driver, StringComparison.Ordinal);
                    Assert.False(string.IsNullOrEmpty(driver.Problem));
                    continue;
                }

                Assert.True(driver.OkRuns == 1, $"{driver.Driver}: {driver.Problem}\n{progress}");
                Assert.NotNull(driver.WallMs);
                Assert.NotNull(driver.PowerOffMs);
                Assert.NotNull(driver.OverheadMs);
                Assert.NotNull(driver.ButtonAfterMs);
                Assert.NotNull(driver.AfterExitMs);
                if (driver.Driver.StartsWith("castra", StringComparison.Ordinal) || driver.Driver.StartsWith("Stop-CastraVm", StringComparison.Ordinal))
                {
                    // Castra's own drivers split the overhead by the engine's event timestamps (the VM's journal).
                    Assert.NotNull(driver.Split?.HandshakeMs);
                    Assert.NotNull(driver.Split?.DetectionMs);
                }
            }

            Assert.NotNull(result.Drivers.Single(d => d.Driver.StartsWith("Stop-CastraVm (fresh", StringComparison.Ordinal)).ImportModuleMs);
            var report = new BenchReport
            {
                Command = "smoke test",
                Machine = MachineInfo.Read(Path.GetTempPath()),
                ExitDelayMs = 0,
                StartedAt = DateTimeOffset.UtcNow,
                Runs = [],
                Guest = result,
                Targets = Targets.Check([], 0, guest: result),
            };
            Assert.Contains("Real tiny ACPI guest", Report.ToTable(report), StringComparison.Ordinal);
            Assert.Equal(result.Drivers.Count, Report.FromJson(Report.ToJson(report))!.Guest!.Drivers.Count);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Strace_counts_every_graceful_fake_and_the_per_vm_slope()
    {
        using var progress = new StringWriter();

        var result = await SyscallSection.RunAsync(Build(), NativeTools.Prepare(FakeQemuBinary.Path), [1, 3], 50, Path.GetTempPath(), progress, CancellationToken.None);

        Assert.Null(result.Problem);
        Assert.Equal([(true, 1), (true, 3), (false, 3)], result.Traces.Select(t => (t.Native, t.Vms)).ToArray());
        Assert.All(result.Traces, t =>
        {
            Assert.True(t.PathsCorrect == t.Vms, string.Join("; ", t.Problems));
            Assert.Empty(t.Problems);
            Assert.True(t.Summary.Calls.GetValueOrDefault("execve") >= 1, "strace did not follow the process");
        });
        var slope = Assert.Single(result.Slopes);
        Assert.Equal((1, 3), (slope.FromVms, slope.ToVms));
        Assert.Contains("System calls of castra down --all", Report.ToTable(new BenchReport
        {
            Command = "smoke test",
            Machine = MachineInfo.Read(Path.GetTempPath()),
            ExitDelayMs = 0,
            StartedAt = DateTimeOffset.UtcNow,
            Runs = [],
            Syscalls = result,
            Targets = Targets.Check([], 0, syscalls: result),
        }), StringComparison.Ordinal);
    }

    [Fact]
    public void A_strace_summary_table_is_read_with_and_without_the_errors_column()
    {
        const string table = """
            % time     seconds  usecs/call     calls    errors syscall
            ------ ----------- ----------- --------- --------- ----------------
             40.00    0.000400          10        40           fsync
             30.00    0.000300           1       300        12 openat
             30.00    0.000300           3       100           sched_yield
            ------ ----------- ----------- --------- --------- ----------------
            100.00    0.001000                   440        12 total
            """;

        var summary = StraceSummary.Parse(table);

        Assert.Equal(440, summary.Total);
        Assert.Equal(40, summary.Syncs);
        Assert.Equal(300, summary.Calls["openat"]);
    }
}

using System.Globalization;
using Castra.Bench.Baselines;
using Castra.Bench.Guest;
using Castra.Bench.Syscalls;

namespace Castra.Bench;

/// <summary>
/// Runs every scenario at every size: Castra's engine, then (up to --baseline-max-vms) the two baselines, each on a
/// freshly launched fleet of the same mix. Above that size the sequential baselines are extrapolated linearly from
/// the largest measured run and labelled so; at N=1000 and D=500 ms they would take 8 minutes or more each.
/// </summary>
internal sealed class BenchRunner
{
    private readonly BenchOptions _options;
    private readonly NativeTools _tools;
    private readonly TextWriter _progress;

    public BenchRunner(BenchOptions options, NativeTools tools, TextWriter progress)
    {
        _options = options;
        _tools = tools;
        _progress = progress;
    }

    public async Task<BenchReport> RunAsync(string command, CancellationToken cancellationToken)
    {
        var machine = MachineInfo.Read(_options.StateDirectory);
        var started = DateTime.UtcNow;
        EnsureFileLimit(machine);
        var runs = new List<RunResult>();
        CliColdStartResult? cli = null;
        GuestResult? guest = null;
        SyscallResult? syscalls = null;
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        var build = CastraBuild.Find();

        if (_options.WarmUp && _options.MeasureFleet)
        {
            await WarmUpAsync(cancellationToken);
        }

        foreach (var mix in _options.MeasureFleet ? _options.Mixes : [])
        {
            foreach (var n in _options.Sizes.Distinct().Order())
            {
                var behaviors = mix.Assign(n);
                using (var fleet = Launch(behaviors))
                {
                    var castra = await EngineRun.RunAsync(fleet, mix, _options.ExitDelayMs, throttleLimit: 0, cancellationToken);
                    Add(runs, castra);
                }

                if (n <= _options.BaselineMaxVms)
                {
                    using (var fleet = Launch(behaviors))
                    {
                        Add(runs, await EngineRun.RunAsync(fleet, mix, _options.ExitDelayMs, throttleLimit: 1, cancellationToken));
                    }

                    using (var fleet = Launch(behaviors))
                    {
                        Add(runs, await ShellLoopBaseline.RunAsync(fleet, _tools, mix, _options.ExitDelayMs, cancellationToken));
                    }
                }
                else if (_options.BaselineMaxVms > 0)
                {
                    foreach (var driver in new[] { "castra-throttle-1", "shell-loop" })
                    {
                        if (Extrapolate(runs, mix, driver, n) is { } estimate)
                        {
                            Add(runs, estimate);
                        }
                    }
                }
            }
        }

        if (build is null && (_options.MeasureCli || _options.MeasureGuest || _options.MeasureSyscalls))
        {
            skipped["cli, guest, syscalls"] = $"no Castra.sln above {AppContext.BaseDirectory}: run the benchmark from the repository";
        }
        else if (build is not null)
        {
            if (_options.MeasureCli)
            {
                _progress.WriteLine("castra status, whole process: native vs JIT vs ReadyToRun (publishing the ReadyToRun variant first) …");
                cli = await CliColdStart.MeasureAsync(build, _tools, _options.StateDirectory, includeReadyToRun: true, CliColdStart.Runs, cancellationToken);
            }

            if (_options.MeasureGuest)
            {
                guest = await RunGuestSectionAsync(build, skipped, cancellationToken);
            }

            if (_options.MeasureSyscalls)
            {
                _progress.WriteLine("syscalls: castra down --all under strace -f -c …");
                syscalls = await SyscallSection.RunAsync(build, _tools, _options.SyscallSizes, _options.ExitDelayMs, _options.StateDirectory, _progress, cancellationToken);
            }
        }

        var withRatios = runs.Select(r => r.Driver == "castra" ? r : r with { RatioToCastra = Ratio(runs, r) }).ToList();
        return new BenchReport
        {
            Command = command,
            Machine = machine,
            ExitDelayMs = _options.ExitDelayMs,
            StartedAt = started,
            Runs = withRatios,
            Cli = cli,
            Guest = guest,
            Syscalls = syscalls,
            Skipped = skipped.Count > 0 ? skipped : null,
            Targets = Targets.Check(withRatios, _options.ExitDelayMs, cli, guest, syscalls),
            LoadAverage1mAtEnd = MachineInfo.LoadAverage(),
        };
    }

    /// <summary>
    /// Discarded runs first, over every path, so that the figures show the engine rather than the JIT compiling it:
    /// .NET compiles each method quickly at first and again, optimized, on a background thread once it has been
    /// called 30 times, which on 2 cores took up to 44 % of the CPU during a first measured run (perf). A fresh
    /// `castra down` pays that once per process: --no-warm-up shows those figures.
    /// </summary>
    private async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        _progress.WriteLine("warm-up runs (discarded: 60 graceful VMs, then 40 of mixed behaviours) …");
        var mixes = new[] { (FleetMix.Graceful, 60), (FleetMix.Parse("graceful:40,ignore-acpi:30,ignore-term:30"), 40) };
        foreach (var (mix, count) in mixes)
        {
            using var fleet = Fleet.Launch(_tools, mix.Assign(count), 20, _options.StateDirectory);
            await EngineRun.RunAsync(fleet, mix, 20, throttleLimit: 0, cancellationToken);
        }

        // Let the background compiler finish what the warm-up queued before anything is measured.
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
    }

    /// <summary>The real guest needs QEMU and the guest's kernel and initramfs (./build.sh setup builds them).</summary>
    private async Task<GuestResult?> RunGuestSectionAsync(CastraBuild build, Dictionary<string, string> skipped, CancellationToken cancellationToken)
    {
        var kernel = Path.Combine(build.GuestDirectory, "vmlinux");
        if (!File.Exists(kernel) || !File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            skipped["guest"] = $"needs qemu-system-x86 and the test guest ({kernel}): run ./build.sh setup";
            return null;
        }

        if (build.Missing(cli: true) is { } missing)
        {
            skipped["guest"] = missing;
            return null;
        }

        _progress.WriteLine($"real tiny guest: 1 warm-up round + {_options.GuestRuns} measured rounds, each driver on a freshly booted guest (~3 s per boot) …");
        var work = Path.Combine(_options.StateDirectory, "castra-bench-guest-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            return await GuestSection.RunAsync(new GuestEnvironment(build, _tools, work), GuestSection.AllDrivers(), _options.GuestRuns, _progress, cancellationToken);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private Fleet Launch(IReadOnlyList<FakeBehavior> behaviors) =>
        Fleet.Launch(_tools, behaviors, _options.ExitDelayMs, _options.StateDirectory);

    private void Add(List<RunResult> runs, RunResult run)
    {
        runs.Add(run);
        var paths = FleetCheck.Describe(run.PathsCorrect, run.Vms);
        _progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run.Scenario} N={run.Vms} {run.Driver}{(run.Extrapolated ? " (extrapolated)" : "")}: wall {run.WallMs:0} ms (ideal {run.IdealMs:0}), paths ok: {(run.Extrapolated ? "-" : paths)}"));
    }

    /// <summary>Sequential drivers scale linearly with N: per-VM time of the largest measured run, times N.</summary>
    private static RunResult? Extrapolate(List<RunResult> runs, FleetMix mix, string driver, int n)
    {
        var basis = runs.Where(r => r.Scenario == mix.Name && r.Driver == driver && !r.Extrapolated).MaxBy(r => r.Vms);
        return basis is null ? null : basis with
        {
            Vms = n,
            WallMs = Math.Round(basis.WallMs / basis.Vms * n),
            Extrapolated = true,
            Note = string.Create(CultureInfo.InvariantCulture, $"not run: {basis.WallMs / basis.Vms:0} ms per VM measured at N={basis.Vms}, times {n}"),
            PathsCorrect = 0,
            PathMismatches = [],
            OverheadMs = null,
            ExitDetectionMs = null,
            PowerdownSentAfterMs = null,
            Resources = null,
            Timeline = null,
        };
    }

    private static double? Ratio(List<RunResult> runs, RunResult run) =>
        runs.FirstOrDefault(r => r.Scenario == run.Scenario && r.Vms == run.Vms && r.Driver == "castra") is { WallMs: > 0 } castra
            ? Math.Round(run.WallMs / castra.WallMs, 1)
            : null;

    /// <summary>Per VM the orchestrator holds a pidfd, a QMP socket, a lock file and a journal; leave room for the rest.</summary>
    private void EnsureFileLimit(MachineInfo machine)
    {
        var needed = (_options.Sizes.Max() * 5) + 256;
        if (machine.OpenFilesLimit > 0 && machine.OpenFilesLimit < needed)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"the open-file limit is {machine.OpenFilesLimit}, a fleet of {_options.Sizes.Max()} needs about {needed}: raise the hard limit (ulimit -Hn) or use smaller --vms"));
        }
    }
}

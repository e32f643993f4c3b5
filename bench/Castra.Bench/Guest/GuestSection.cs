using System.Globalization;

namespace Castra.Bench.Guest;

/// <summary>
/// The real tiny guest, stopped the ways users stop it. Each round boots a fresh guest per driver (untimed) and
/// stops it with that driver; the drivers' order rotates from round to round, so a change in the machine's load
/// (two cores shared with other work) hits every driver alike. Rounds up to 0 are discarded warm-ups (page cache,
/// the warm pwsh's JIT); then rounds 1 to <c>rounds</c> are measured. A driver that cannot run here is reported with
/// the reason.
/// </summary>
internal static class GuestSection
{
    public static IReadOnlyList<GuestDriver> AllDrivers() =>
    [
        new CastraDownDriver(native: true),
        new CastraDownDriver(native: false),
        new StopCastraVmDriver(warm: true),
        new StopCastraVmDriver(warm: false),
        new VirshDriver(),
        new ShellLoopDriver(),
    ];

    /// <param name="warmUpRounds">Discarded rounds first (1 for figures; the smoke test, which checks paths only, uses 0).</param>
    public static async Task<GuestResult> RunAsync(GuestEnvironment environment, IReadOnlyList<GuestDriver> drivers, int rounds, TextWriter progress, CancellationToken cancellationToken, int warmUpRounds = 1)
    {
        var loadBefore = MachineInfo.LoadAverage();
        var unavailable = drivers.Select(d => (d, Why: d.Unavailable(environment))).Where(x => x.Why is not null).ToDictionary(x => x.d.Name, x => x.Why!);
        var active = drivers.Where(d => !unavailable.ContainsKey(d.Name)).ToList();
        var runs = new List<GuestRun>();
        try
        {
            foreach (var driver in active)
            {
                await driver.PrepareAsync(environment, cancellationToken);
            }

            for (var round = 1 - warmUpRounds; round <= rounds; round++)
            {
                var shift = ((round % Math.Max(1, active.Count)) + active.Count) % Math.Max(1, active.Count);
                var order = active.Skip(shift).Concat(active.Take(shift));
                foreach (var driver in order)
                {
                    var run = await RunOnceAsync(environment, driver, round, cancellationToken);
                    runs.Add(run);
                    progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"guest round {round}{(run.WarmUp ? " (warm-up)" : "")} {driver.Name}: wall {run.WallMs:0.0} ms, power-off {run.PowerOffMs:0.0} ms, overhead {run.OverheadMs:0.0} ms{(run.Ok ? "" : " NOT OK: " + run.Problem)}"));
                }
            }
        }
        finally
        {
            foreach (var driver in drivers)
            {
                driver.Dispose();
            }
        }

        var summaries = drivers.Select(d => unavailable.TryGetValue(d.Name, out var why)
            ? new GuestDriverSummary(d.Name, 0, 0, null, null, null, null, null, null, null, why)
            : Summarize(d.Name, runs.Where(r => r.Driver == d.Name && !r.WarmUp).ToList())).ToList();
        return new GuestResult(rounds, loadBefore, MachineInfo.LoadAverage(), summaries, runs);
    }

    private static async Task<GuestRun> RunOnceAsync(GuestEnvironment environment, GuestDriver driver, int round, CancellationToken cancellationToken)
    {
        var load = MachineInfo.LoadAverage();
        using var guest = await driver.BootAsync(environment, cancellationToken);
        var run = await driver.StopAsync(environment, guest, cancellationToken);
        DateTimeOffset? exited = null;
        string? problem = run.Detail;
        try
        {
            exited = await guest.Watch.Exited.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (TimeoutException)
        {
            problem ??= "QEMU did not exit within 30 s of the tool's return";
        }

        await guest.Watch.SettleAsync();
        var powerdown = guest.Watch.PowerdownAt;
        if (powerdown is null)
        {
            problem ??= "no POWERDOWN event: the power button was not pressed";
        }
        else if (!guest.GuestPoweredItselfOff)
        {
            problem ??= "the guest did not print its power-off marker";
        }
        else if (!run.ToolSaysGraceful)
        {
            problem ??= "the tool did not report success";
        }

        var journal = guest is CastraUpGuest castraUp ? JournalTimeline.Read(Path.Combine(castraUp.StateRoot, "vms", guest.Name)) : null;
        double? Ms(DateTimeOffset? from, DateTimeOffset? to) => from is { } f && to is { } t ? Math.Round((t - f).TotalMilliseconds, 2) : null;
        var wall = Ms(run.StartedAt, run.EndedAt);
        var powerOff = Ms(powerdown, exited);
        return new GuestRun
        {
            Driver = driver.Name,
            Round = round,
            WarmUp = round <= 0,
            Ok = problem is null,
            Problem = problem,
            WallMs = wall,
            PowerOffMs = powerOff,
            OverheadMs = wall is { } w && powerOff is { } p ? Math.Round(w - p, 2) : null,
            ButtonAfterMs = Ms(run.StartedAt, powerdown),
            AfterExitMs = Ms(exited, run.EndedAt),
            ShutdownToExitMs = Ms(guest.Watch.ShutdownAt, exited),
            Split = journal is null ? null : new OverheadSplit(
                Ms(run.StartedAt, journal.Requested),
                Ms(journal.Requested, powerdown),
                Ms(exited, journal.Succeeded),
                Ms(journal.Succeeded, journal.Completed),
                Ms(journal.Completed, run.EndedAt)),
            ImportModuleMs = run.ImportModuleMs is { } i ? Math.Round(i, 1) : null,
            ProcessReadyMs = run.ProcessReadyMs is { } r ? Math.Round(r, 1) : null,
            Load1m = load,
        };
    }

    private static GuestDriverSummary Summarize(string driver, List<GuestRun> runs) => new(
        driver,
        runs.Count,
        runs.Count(r => r.Ok),
        Spread.Of(runs.Select(r => r.WallMs)),
        Spread.Of(runs.Select(r => r.PowerOffMs)),
        Spread.Of(runs.Select(r => r.OverheadMs)),
        Spread.Of(runs.Select(r => r.ButtonAfterMs)),
        Spread.Of(runs.Select(r => r.AfterExitMs)),
        Spread.Of(runs.Select(r => r.ImportModuleMs)),
        Spread.Of(runs.Select(r => (double?)r.Load1m)),
        runs.FirstOrDefault(r => !r.Ok)?.Problem)
    {
        ProcessReadyMs = Spread.Of(runs.Select(r => r.ProcessReadyMs)),
        Split = runs.Any(r => r.Split is not null)
            ? new SplitSpread(
                Spread.Of(runs.Select(r => r.Split?.StartupMs)),
                Spread.Of(runs.Select(r => r.Split?.HandshakeMs)),
                Spread.Of(runs.Select(r => r.Split?.DetectionMs)),
                Spread.Of(runs.Select(r => r.Split?.FinishMs)),
                Spread.Of(runs.Select(r => r.Split?.ReturnMs)))
            : null,
    };
}

/// <summary>Per driver over the measured rounds: min/median/max of each figure (ms), and the load during them.</summary>
internal sealed record GuestDriverSummary(
    string Driver, int Runs, int OkRuns, Spread? WallMs, Spread? PowerOffMs, Spread? OverheadMs, Spread? ButtonAfterMs,
    Spread? AfterExitMs, Spread? ImportModuleMs, Spread? Load1m, string? Problem)
{
    /// <summary>Fresh pwsh: process started → module imported, ready for the first call.</summary>
    public Spread? ProcessReadyMs { get; init; }

    /// <summary>Castra's drivers: where the overhead goes, from the VM's journal.</summary>
    public SplitSpread? Split { get; init; }
}

internal sealed record SplitSpread(Spread? StartupMs, Spread? HandshakeMs, Spread? DetectionMs, Spread? FinishMs, Spread? ReturnMs);

internal sealed record GuestResult(int Rounds, double Load1mBefore, double Load1mAfter, IReadOnlyList<GuestDriverSummary> Drivers, IReadOnlyList<GuestRun> Runs);

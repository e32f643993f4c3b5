using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Castra.Events;
using Castra.Serialization;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;
using Xunit.Abstractions;

namespace Castra.Tests;

/// <summary>A 200-VM fleet and a CLI killed over and over: nothing else runs beside it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FleetCrashGroup
{
    public const string Name = "Fleet crash";
}

/// <summary>
/// Issue 14's durability promise, proven the way a host shutdown breaks it: <c>castra down --all</c> of a 200-VM fleet
/// is SIGKILLed at random instants, many times. After each kill, what a crash may leave is exactly what
/// docs/state-layout.md allows: every journal is whole lines of Castra events (only a last line without its newline,
/// which the next writer cuts off), each run numbered 1, 2, 3… and starting at its status' JournalOffset, every event
/// the CLI printed already journaled, every shutdown.json absent or a whole status document whose run is the
/// journal's last, audit.ndjson whole lines. Then the next <c>castra down --all</c> recovers every VM: exit 0, each
/// VM's last run a ShutdownComplete (Graceful or Forced), a takeover (warning and TakeoverOf) exactly where a run was
/// interrupted, every fake QEMU gone.
/// Kill instants are random but seeded (the seed is printed; CASTRA_CRASH_SEED=N reruns it). Nothing is timed: the
/// instants only decide where the kill lands, and every wait is bounded. Also prints, without asserting, the
/// fsync-family calls per VM of one uninterrupted run (strace -f, when strace is installed).
/// </summary>
[Collection(FleetCrashGroup.Name)]
public sealed partial class CrashConsistencyTests : IDisposable
{
    private const int FleetSize = 200;

    /// <summary>Round r kills 1, 2 or 3 runs in a row (each later one a takeover of the last), then recovers: 15 kills.</summary>
    private const int Rounds = 8;

    /// <summary>Journals per round given a torn last line before the recovery, as a writer that died mid-write(2) leaves it.</summary>
    private const int PlantedTornTails = 3;

    /// <summary>What any one CLI run may take before the test fails it (a healthy run of this fleet takes a few seconds).</summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(120);

    private static readonly string[] StoppedOutcomes = ["Graceful", "Forced"];

    private readonly ITestOutputHelper _output;
    private readonly StringBuilder _log = new();
    private readonly List<CastraRun> _runs = [];

    /// <summary>CLI processes that died of the test's SIGKILL: only they may leave a temp file behind.</summary>
    private readonly HashSet<int> _killedPids = [];

    private CrashFleet? _fleet;
    private int _tornTails;
    private int _plantedTornTails;
    private int _stdoutTornLines;
    private int _auditLinesLost;
    private readonly Dictionary<string, int> _interruptedPhases = new(StringComparer.Ordinal);

    public CrashConsistencyTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        foreach (var run in _runs)
        {
            run.Dispose();
        }

        _fleet?.Dispose();
    }

    [Fact]
    public async Task Sigkilled_fleet_shutdowns_leave_whole_state_files_and_the_next_run_recovers_every_vm()
    {
        var seed = Environment.GetEnvironmentVariable("CASTRA_CRASH_SEED") is { Length: > 0 } text
            ? int.Parse(text, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        Log($"seed {seed} (rerun with CASTRA_CRASH_SEED={seed})");
        var rng = new Random(seed);
        var total = Stopwatch.StartNew();
        _fleet = CrashFleet.Create(Specs(rng));
        Log($"fleet of {FleetSize} under {_fleet.Path}: {string.Join(", ", _fleet.Specs.GroupBy(s => s.Behavior).Select(g => $"{g.Count()} {g.Key}"))}");
        _fleet.LaunchStopped();

        // One uninterrupted run first: it must be clean, and it tells how long a run lasts and how many events it prints,
        // the ranges the kill instants are drawn from. Under strace when installed: the fsync baseline.
        var strace = await FindStraceAsync();
        var reference = await RunToCompletionAsync("reference run", new Dictionary<string, (string, int)>(StringComparer.Ordinal), strace);

        // Later runs are often quicker (no strace, warm caches): aiming within 80 % of the reference kills most of them.
        var runTime = reference.Elapsed * 0.8;
        var runLines = Math.Max(1, reference.Stdout.Count * 4 / 5);

        var kills = 0;
        var attempts = 0;
        for (var round = 1; round <= Rounds; round++)
        {
            for (var k = 1; k <= 1 + ((round - 1) % 3); k++)
            {
                var relaunched = _fleet.LaunchStopped();
                var label = $"round {round} kill {k}";
                CastraRun run;
                string plan;
                if (rng.Next(2) == 0)
                {
                    var afterLines = rng.Next(1, runLines + 1);
                    plan = $"after event line {afterLines}";
                    run = StartCastra(killAfterLines: afterLines);
                }
                else
                {
                    var instant = TimeSpan.FromMilliseconds(Math.Round(rng.NextDouble() * runTime.TotalMilliseconds));
                    plan = $"at {instant.TotalMilliseconds:0} ms";
                    run = StartCastra();
                    run.KillAt(instant);
                }

                await WaitAsync(run, label);
                attempts++;
                var died = run.DiedOfKill;
                if (died)
                {
                    _killedPids.Add(run.Pid);
                    kills++;
                }
                else if (run.Elapsed * 0.8 < runTime)
                {
                    // The reference ran under strace on a machine that may have been busier: aim within what a run
                    // without strace now takes.
                    runTime = run.Elapsed * 0.8;
                }

                var statuses = Check(label, run, afterKill: died);
                if (died)
                {
                    CountLostAuditLines(run, statuses);
                }

                var interrupted = statuses.Where(s => s.Value?.IsIncomplete() == true).ToList();
                foreach (var phase in interrupted.GroupBy(s => s.Value!.Phase))
                {
                    _interruptedPhases[phase.Key] = _interruptedPhases.GetValueOrDefault(phase.Key) + phase.Count();
                }

                Log($"{label}: {relaunched} fakes relaunched; SIGKILL planned {plan}, " + (died
                    ? $"sent at {run.KillSentAt!.Value.TotalMilliseconds:0} ms after {run.LinesAtKill} event lines; {interrupted.Count} runs interrupted ({string.Join(", ", interrupted.GroupBy(s => s.Value!.Phase).Select(g => $"{g.Count()} in {g.Key}"))})"
                    : $"the run ended first (exit {run.ExitCode} after {run.Elapsed.TotalMilliseconds:0} ms)"));
            }

            PlantTornTails(rng);
            var expectedTakeovers = CurrentStatuses().Where(s => s.Value?.IsIncomplete() == true).ToDictionary(s => s.Key, s => (s.Value!.ShutdownId, s.Value.OwnerPid), StringComparer.Ordinal);
            await RunToCompletionAsync($"round {round} recovery", expectedTakeovers, strace: null);
        }

        Log($"{kills} of {attempts} runs killed in {Rounds} rounds, {_fleet.LaunchCount} fakes launched; interrupted runs by phase: " +
            $"{string.Join(", ", _interruptedPhases.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))}; " +
            $"torn journal tails left by a kill: {_tornTails}, planted: {_plantedTornTails} (all cut by the next run); torn stdout lines: {_stdoutTornLines}; " +
            $"runs completed (shutdown.json Complete) whose audit line the kill lost: {_auditLinesLost}; " +
            $"temp files left by killed runs of VMs nobody took over (never in the way): {TempFiles().Count}; whole test {total.Elapsed.TotalSeconds:0.0} s");
        Assert.True(kills * 2 >= attempts, $"only {kills} of {attempts} runs were killed before they ended (seed {seed}): the test proved too little\n{_log}");
    }

    /// <summary>Mostly graceful guests that take a while to power off (runs are in flight when killed), some that ignore ACPI (SIGTERM) or SIGTERM too (SIGKILL), with short vm.json timeouts.</summary>
    private static List<CrashFleet.Spec> Specs(Random rng)
    {
        var specs = new List<CrashFleet.Spec>();
        for (var i = 0; i < FleetSize; i++)
        {
            var name = "vm-" + (i + 1).ToString("D3", CultureInfo.InvariantCulture);
            var cooperative = Math.Round(0.3 + (rng.NextDouble() * 0.7), 2);
            specs.Add((i % 20) switch
            {
                0 or 1 or 2 => new CrashFleet.Spec(name, "ignore-acpi", 50, cooperative, TermTimeoutSeconds: 5),
                3 => new CrashFleet.Spec(name, "ignore-term", 50, cooperative, TermTimeoutSeconds: 0.3, KillTimeoutSeconds: 5),
                _ => new CrashFleet.Spec(name, "graceful", 200 + rng.Next(1300)),
            });
        }

        return specs;
    }

    private CastraRun StartCastra(int killAfterLines = int.MaxValue, ProcessStartInfo? strace = null)
    {
        string[] args = ["down", "--all", "--home", _fleet!.Path, "--json"];
        if (strace is not null)
        {
            foreach (var arg in args)
            {
                strace.ArgumentList.Add(arg);
            }
        }

        var run = new CastraRun(strace is null ? CliRunner.Start(args) : Process.Start(strace)!, killAfterLines);
        _runs.Add(run);
        return run;
    }

    private async Task WaitAsync(CastraRun run, string label)
    {
        if (!await run.WaitAsync(RunLimit))
        {
            run.Kill();
            Assert.Fail($"{label}: castra down --all did not end within {RunLimit.TotalSeconds:0} s (it was killed). Last output: " +
                $"{string.Join(" | ", run.Stdout.TakeLast(3))}; stderr: {string.Join(" | ", run.Stderr.TakeLast(5))}\n{_log}");
        }
    }

    /// <summary>Runs castra down --all to its end and checks that it stopped every VM, taking over exactly where a run was interrupted.</summary>
    /// <param name="expectedTakeovers">Per VM, the interrupted run (and its dead owner's PID) the next run must take over.</param>
    private async Task<CastraRun> RunToCompletionAsync(string label, Dictionary<string, (string Id, int OwnerPid)> expectedTakeovers, string? strace)
    {
        var straceOutput = strace is null ? null : Path.Combine(_fleet!.Path, "strace.txt");
        var run = StartCastra(strace: strace is null ? null : await UnderStraceAsync(strace, straceOutput!));
        await WaitAsync(run, label);
        var problems = new List<string>();
        if (run.ExitCode != 0)
        {
            problems.Add($"exit code {run.ExitCode}, expected 0; stderr: {string.Join(" | ", run.Stderr.Take(10))}");
        }

        var statuses = Check(label, run, afterKill: false, problems, expectedTakeovers.ToDictionary(t => t.Key, t => t.Value.OwnerPid, StringComparer.Ordinal));

        var takeoverLines = run.Stderr.Where(l => l.Contains("[CastraShutdownTakeover]", StringComparison.Ordinal)).ToList();
        var reported = run.Stdout.Select(TryParse).OfType<ShutdownCompleteEvent>().GroupBy(e => e.VmName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        foreach (var (name, doc) in statuses)
        {
            if (doc is null || doc.Phase != "Complete" || !StoppedOutcomes.Contains(doc.Outcome))
            {
                problems.Add($"{name}: shutdown.json says phase {doc?.Phase ?? "(absent)"}, outcome {doc?.Outcome ?? "(none)"}: expected Complete, Graceful or Forced");
                continue;
            }

            if (!reported.TryGetValue(name, out var complete) || complete.ShutdownId != doc.ShutdownId || complete.Outcome != doc.Outcome)
            {
                problems.Add($"{name}: this run did not report the ShutdownComplete of shutdown.json's run {doc.ShutdownId} ({doc.Outcome})");
            }

            var takeovers = takeoverLines.Where(l => l.StartsWith($"castra: warning: {name}: ", StringComparison.Ordinal)).ToList();
            if (expectedTakeovers.TryGetValue(name, out var takeover))
            {
                var interrupted = takeover.Id;
                if (doc.TakeoverOf != interrupted)
                {
                    var said = run.Stderr.Where(l => l.Contains($" {name}: ", StringComparison.Ordinal)).ToList();
                    problems.Add($"{name}: run {interrupted} (owner PID {takeover.OwnerPid}) was interrupted, but the next run {doc.ShutdownId} records TakeoverOf={doc.TakeoverOf ?? "(none)"}" +
                        $"; it said: {(said.Count == 0 ? "nothing" : string.Join(" | ", said))}; journal runs: {string.Join(", ", ReadRunIds(_fleet!.Vm(name)))}");
                }

                if (!takeovers.Any(l => l.Contains(interrupted, StringComparison.Ordinal)))
                {
                    problems.Add($"{name}: run {interrupted} was interrupted, but no CastraShutdownTakeover warning names it");
                }
            }
            else if (doc.TakeoverOf is not null || takeovers.Count > 0)
            {
                problems.Add($"{name}: nothing was interrupted, yet the run took over (TakeoverOf={doc.TakeoverOf ?? "(none)"}; {string.Join(" | ", takeovers)})");
            }
        }

        foreach (var line in run.Stderr.Where(l => l.StartsWith("castra: error:", StringComparison.Ordinal)))
        {
            problems.Add($"error on stderr: {line}");
        }

        var audit = ReadAudit(problems).Select(r => (r.ShutdownId, r.Outcome)).ToHashSet();
        foreach (var (name, doc) in statuses.Where(s => s.Value is { Phase: "Complete" }))
        {
            if (!audit.Contains((doc!.ShutdownId, doc.Outcome!)))
            {
                problems.Add($"{name}: audit.ndjson has no line for the completed run {doc.ShutdownId} ({doc.Outcome})");
            }
        }

        var live = _fleet!.LiveFakes();
        if (live.Count > 0)
        {
            problems.Add($"{live.Count} fake QEMUs still run after the run ended: {string.Join(", ", live.Take(10).Select(f => $"{f.Name} (PID {f.Pid})"))}");
        }

        Fail(label, problems);

        var outcomes = statuses.Values.GroupBy(d => $"{d!.Outcome}{(d.Changed == true ? "" : " (unchanged)")}").Select(g => $"{g.Count()} {g.Key}");
        var warnings = run.Stderr.Select(l => WarningId().Match(l)).Where(m => m.Success).GroupBy(m => m.Groups[1].Value)
            .Select(g => $"{g.Count()} {g.Key}" + (g.Key == "CastraShutdownTakeover" ? "" : $" ({Excerpt(g.First().Value)})"));
        var found = reported.Values.GroupBy(e => e.Detail?.Contains("exited as Castra examined it", StringComparison.Ordinal) == true ? "Exiting" : e.QemuFound ?? "(none)")
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        Log($"{label}: exit 0 after {run.Elapsed.TotalMilliseconds:0} ms, {run.Stdout.Count} events; {string.Join(", ", outcomes)}; QEMU found {string.Join(", ", found)}; " +
            $"{expectedTakeovers.Count} takeovers expected and seen; warnings: {string.Join(", ", warnings.DefaultIfEmpty("none"))}");
        if (straceOutput is not null)
        {
            LogSyncCalls(straceOutput);
        }

        return run;
    }

    /// <summary>
    /// The state-layout contract after a run ended (<paramref name="afterKill"/>: by SIGKILL). Returns each VM's
    /// shutdown.json (null when absent). Fails the test, naming the seed's log, on any breach.
    /// </summary>
    private Dictionary<string, StatusDocument?> Check(string label, CastraRun run, bool afterKill, List<string>? problems = null, IReadOnlyDictionary<string, int>? takenOver = null)
    {
        var own = problems is null;
        problems ??= [];
        var statuses = new Dictionary<string, StatusDocument?>(StringComparer.Ordinal);
        var journals = new Dictionary<string, Dictionary<(string, int), ShutdownEvent>>(StringComparer.Ordinal);
        var notDurable = run.Stderr.Select(l => NotDurable().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        foreach (var spec in _fleet!.Specs)
        {
            var vm = _fleet.Vm(spec.Name);
            var journal = CheckJournal(vm, afterKill, problems);
            journals[vm.Name] = journal.Lines.ToDictionary(l => (l.Event.ShutdownId, l.Event.Sequence), l => l.Event);
            statuses[vm.Name] = CheckStatus(vm, journal, completed: !afterKill, notDurable.Contains(vm.Name), problems);
        }

        CheckReportedEventsWereJournaled(run, journals, problems);
        _ = ReadAudit(problems);
        CheckTempFiles(afterKill ? null : run.Pid, problems, takenOver);
        if (own)
        {
            Fail(label, problems);
        }

        return statuses;
    }

    /// <summary>Whole lines of Castra events; runs contiguous and numbered from 1; only after a kill a torn last line.</summary>
    private Journal CheckJournal(VmPaths vm, bool afterKill, List<string> problems)
    {
        var (whole, tail, wholeEnd) = SplitLines(vm.Journal);
        var lines = new List<JournalLine>();
        foreach (var (start, line) in whole)
        {
            try
            {
                var evt = EventJson.Deserialize(line);
                lines.Add(new JournalLine(start, evt));
                if (evt.VmName != vm.Name || evt.ShutdownId.Length == 0)
                {
                    problems.Add($"{vm.Name}: events.ndjson line at byte {start} belongs to VM '{evt.VmName}', run '{evt.ShutdownId}'");
                }
            }
            catch (FormatException ex)
            {
                problems.Add($"{vm.Name}: events.ndjson line at byte {start} is not a whole Castra event ({ex.Message}): {Excerpt(line)}");
            }
        }

        // docs/state-layout.md: "a last line without its newline (a writer that died mid-write) is cut off before the
        // next run appends". So it may exist right after a kill, never after a run that ended by itself.
        if (tail is not null)
        {
            if (afterKill)
            {
                _tornTails++;
            }
            else
            {
                problems.Add($"{vm.Name}: events.ndjson ends in a line without its newline after a run that ended normally: {Excerpt(tail)}");
            }
        }

        var runs = new List<(string Id, List<JournalLine> Lines)>();
        foreach (var line in lines)
        {
            if (runs.Count > 0 && runs[^1].Id == line.Event.ShutdownId)
            {
                runs[^1].Lines.Add(line);
                continue;
            }

            if (runs.Any(r => r.Id == line.Event.ShutdownId))
            {
                problems.Add($"{vm.Name}: run {line.Event.ShutdownId} resumes at byte {line.Offset} after another run's lines (runs are written one after another)");
            }

            runs.Add((line.Event.ShutdownId, [line]));
        }

        foreach (var (id, runLines) in runs)
        {
            var sequences = runLines.Select(l => l.Event.Sequence).ToList();
            if (!sequences.SequenceEqual(Enumerable.Range(1, sequences.Count)))
            {
                problems.Add($"{vm.Name}: run {id} is numbered {string.Join(",", sequences)}, not 1..{sequences.Count} without gaps");
            }

            if (runLines[0].Event is not ShutdownRequestedEvent)
            {
                problems.Add($"{vm.Name}: run {id} starts with {runLines[0].Event.Type}, not ShutdownRequested");
            }

            var completes = runLines.FindIndex(l => l.Event is ShutdownCompleteEvent);
            if (completes >= 0 && completes != runLines.Count - 1)
            {
                problems.Add($"{vm.Name}: run {id} has events after its ShutdownComplete");
            }
        }

        return new Journal(lines, runs, wholeEnd);
    }

    /// <summary>
    /// shutdown.json absent or a whole, valid document whose run starts at its JournalOffset. It is first written once
    /// the run has its plan, so the journal may go on with runs it does not record (a ShutdownRequested, the plan's
    /// look at the VM), but never with one that acted on QEMU (the power button, the agent, a signal): a run writes its
    /// status before that (its durable point), so that a crash leaves it recorded and taken over. A run that could not
    /// make its record durable says so (a warning), and only then is that not checked.
    /// </summary>
    private static StatusDocument? CheckStatus(VmPaths vm, Journal journal, bool completed, bool notDurable, List<string> problems)
    {
        StatusDocument? doc;
        ShutdownStatus? view;
        try
        {
            doc = StatusStore.TryRead(vm);
            view = ShutdownStatusReader.Read(vm);
        }
        catch (Exception ex) when (ex is InvalidDataException or Castra.Errors.CastraException)
        {
            problems.Add($"{vm.Name}: shutdown.json is not a whole status document: {ex.Message}");
            return null;
        }

        // The journal's runs that shutdown.json does not record: those after its own (all of them without a status).
        var unrecorded = 0;
        if (doc is not null)
        {
            if (view!.State == ShutdownStatusReader.InProgress)
            {
                problems.Add($"{vm.Name}: shutdown.json shows run {doc.ShutdownId} in progress, yet its owner PID {doc.OwnerPid} has ended");
            }

            var index = journal.Runs.FindIndex(r => r.Id == doc.ShutdownId);
            if (index >= 0)
            {
                var lines = journal.Runs[index].Lines;
                if (lines[0].Offset != doc.JournalOffset)
                {
                    problems.Add($"{vm.Name}: run {doc.ShutdownId} starts at byte {lines[0].Offset} of events.ndjson, but its JournalOffset is {doc.JournalOffset}");
                }

                if (doc.Phase == "Complete" && (lines[^1].Event is not ShutdownCompleteEvent complete || complete.Outcome != doc.Outcome))
                {
                    problems.Add($"{vm.Name}: shutdown.json says run {doc.ShutdownId} is Complete ({doc.Outcome}), but the journal's last line of it is {lines[^1].Event.Type}");
                }

                unrecorded = index + 1;
            }
            else
            {
                // Not one line of it (killed before its first event): it starts where the next run appended, or at the end of the whole lines.
                unrecorded = journal.Runs.FindIndex(r => r.Lines[0].Offset >= doc.JournalOffset);
                unrecorded = unrecorded < 0 ? journal.Runs.Count : unrecorded;
                var expected = unrecorded < journal.Runs.Count ? journal.Runs[unrecorded].Lines[0].Offset : journal.WholeLength;
                if (doc.JournalOffset != expected)
                {
                    problems.Add($"{vm.Name}: run {doc.ShutdownId} has no events, but its JournalOffset {doc.JournalOffset} is not where the next run starts or the whole lines end ({expected})");
                }

                if (doc.Phase == "Complete")
                {
                    problems.Add($"{vm.Name}: shutdown.json says run {doc.ShutdownId} is Complete, but its ShutdownComplete is not journaled");
                }
            }

            if (completed && unrecorded != journal.Runs.Count)
            {
                problems.Add($"{vm.Name}: after a run that ended by itself, shutdown.json records run {doc.ShutdownId}, but the journal goes on with run {journal.Runs[unrecorded].Id}");
            }
        }

        foreach (var (id, lines) in journal.Runs.Skip(unrecorded))
        {
            if (!notDurable && lines.FirstOrDefault(l => l.Event is CooperativeAttemptedEvent or EscalationEvent) is { } acted)
            {
                problems.Add($"{vm.Name}: run {id} acted on QEMU ({acted.Event.Type} #{acted.Event.Sequence}), but shutdown.json records {(doc is null ? "no run" : $"run {doc.ShutdownId}")}: " +
                    "its status was not written before it acted, so the next run cannot take it over");
            }
        }

        return doc;
    }

    /// <summary>docs/state-layout.md: each event is "in the OS before the event is reported to anyone".</summary>
    private void CheckReportedEventsWereJournaled(CastraRun run, Dictionary<string, Dictionary<(string, int), ShutdownEvent>> journals, List<string> problems)
    {
        var printed = run.Stdout;
        for (var i = 0; i < printed.Count; i++)
        {
            var evt = TryParse(printed[i]);
            if (evt is null)
            {
                // A line cut by the kill itself (the CLI died mid-write to the pipe) is no event that was reported.
                if (i == printed.Count - 1 && run.DiedOfKill)
                {
                    _stdoutTornLines++;
                    continue;
                }

                problems.Add($"the CLI printed a line that is not an event: {Excerpt(printed[i])}");
                continue;
            }

            if (!journals.TryGetValue(evt.VmName, out var journal) || !journal.TryGetValue((evt.ShutdownId, evt.Sequence), out var journaled))
            {
                problems.Add($"{evt.VmName}: the CLI reported {evt.Type} #{evt.Sequence} of run {evt.ShutdownId}, but it is not in events.ndjson");
            }
            else if (journaled.Type != evt.Type || journaled.Timestamp != evt.Timestamp)
            {
                problems.Add($"{evt.VmName}: the CLI reported {evt.Type} #{evt.Sequence} of run {evt.ShutdownId} at {evt.Timestamp:O}, the journal has {journaled.Type} at {journaled.Timestamp:O}");
            }
        }
    }

    /// <summary>audit.ndjson: whole lines (one write(2) each, never truncated, so never repaired), each an audit record.</summary>
    private List<AuditRecord> ReadAudit(List<string> problems)
    {
        var (whole, tail, _) = SplitLines(_fleet!.Root.AuditFile);
        var records = new List<AuditRecord>();
        foreach (var (start, line) in whole)
        {
            try
            {
                records.Add(JsonSerializer.Deserialize(line, CastraJsonContext.Default.AuditRecord) ?? throw new JsonException("null"));
            }
            catch (JsonException ex)
            {
                problems.Add($"audit.ndjson line at byte {start} is not a whole audit record ({ex.Message}): {Excerpt(line)}");
            }
        }

        if (tail is not null)
        {
            problems.Add($"audit.ndjson ends in a line without its newline: {Excerpt(tail)}");
        }

        return records;
    }

    /// <summary>An NDJSON file's whole lines with their byte offsets, its last line when it has no newline (torn), and where the whole lines end.</summary>
    private static (List<(int Start, string Line)> Whole, string? Tail, int WholeEnd) SplitLines(string path)
    {
        var bytes = File.Exists(path) ? File.ReadAllBytes(path) : [];
        var whole = new List<(int, string)>();
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                whole.Add((start, Encoding.UTF8.GetString(bytes, start, i - start)));
                start = i + 1;
            }
        }

        return (whole, start < bytes.Length ? Encoding.UTF8.GetString(bytes, start, bytes.Length - start) : null, start);
    }

    /// <summary>
    /// Temp files of atomic replacements (".shutdown.json.PID.GUID.tmp"): never read by anyone (docs/state-layout.md,
    /// Durability), each with a name of its own, so a later run never trips over one. Only a killed run may leave one
    /// behind (a run that ended by itself has finished its writes), and a takeover removes those of the owner it took
    /// over (<paramref name="takenOver"/>: VM and the dead owner's PID).
    /// </summary>
    private void CheckTempFiles(int? completedPid, List<string> problems, IReadOnlyDictionary<string, int>? takenOver = null)
    {
        foreach (var (path, pid) in TempFiles())
        {
            var vm = Path.GetFileName(Path.GetDirectoryName(path));
            if (pid is null || (!_killedPids.Contains(pid.Value) && pid != completedPid))
            {
                problems.Add($"unexpected temp file {path}");
            }
            else if (pid == completedPid)
            {
                problems.Add($"{path}: left behind by a run that ended by itself (PID {pid}): it exited with a write still under way");
            }
            else if (takenOver is not null && vm is not null && takenOver.TryGetValue(vm, out var owner) && owner == pid)
            {
                problems.Add($"{path}: the run that took over from PID {pid} left its temp file behind");
            }
        }
    }

    private List<(string Path, int? Pid)> TempFiles()
    {
        var found = new List<(string, int?)>();
        foreach (var dir in new[] { _fleet!.Path, _fleet.Root.VmsDirectory }.Concat(_fleet.Specs.Select(s => _fleet.Vm(s.Name).Directory)))
        {
            foreach (var path in Directory.EnumerateFiles(dir).Where(p => p.EndsWith(".tmp", StringComparison.Ordinal)))
            {
                var match = TempName().Match(Path.GetFileName(path));
                found.Add((path, match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null));
            }
        }

        return found;
    }

    /// <summary>
    /// A SIGKILL tears a line only if it lands inside the one write(2) that crosses a page boundary: random instants
    /// almost never do. So a few journals get the torn last line such a writer leaves (a prefix of a line, up to all of
    /// it but its newline), and the recovery must cut it before it appends (checked: every line whole afterwards).
    /// </summary>
    private void PlantTornTails(Random rng)
    {
        var planted = 0;
        foreach (var spec in _fleet!.Specs.OrderBy(_ => rng.Next()).ToList())
        {
            var path = _fleet.Vm(spec.Name).Journal;
            var bytes = File.Exists(path) ? File.ReadAllBytes(path) : [];
            if (bytes.Length == 0 || bytes[^1] != (byte)'\n')
            {
                continue;
            }

            var lastStart = Array.LastIndexOf(bytes, (byte)'\n', bytes.Length - 2) + 1;
            var lastLength = bytes.Length - 1 - lastStart;
            using (var journal = new FileStream(path, FileMode.Append, FileAccess.Write))
            {
                journal.Write(bytes, lastStart, 1 + rng.Next(lastLength));
            }

            _plantedTornTails++;
            if (++planted == PlantedTornTails)
            {
                break;
            }
        }
    }

    /// <summary>Runs of the killed CLI that reached shutdown.json Complete but not audit.ndjson (measured: the contract does not say).</summary>
    private void CountLostAuditLines(CastraRun run, Dictionary<string, StatusDocument?> statuses)
    {
        var audited = ReadAudit([]).Select(r => r.ShutdownId).ToHashSet(StringComparer.Ordinal);
        _auditLinesLost += statuses.Values.Count(d => d is { Phase: "Complete" } && d.OwnerPid == run.Pid && !audited.Contains(d.ShutdownId));
    }

    private static IEnumerable<string> ReadRunIds(VmPaths vm) =>
        File.ReadAllLines(vm.Journal).Select(TryParse).OfType<ShutdownEvent>().Select(e => $"{e.ShutdownId}#{e.Sequence}:{e.Type}").Distinct();

    private Dictionary<string, StatusDocument?> CurrentStatuses() =>
        _fleet!.Specs.ToDictionary(s => s.Name, s => StatusStore.TryRead(_fleet.Vm(s.Name)), StringComparer.Ordinal);

    /// <summary>The fsync family per VM, by file, from strace -f -y (measured, never asserted).</summary>
    private void LogSyncCalls(string straceOutput)
    {
        var names = _fleet!.Specs.ToDictionary(s => s.Name, s => s.Behavior, StringComparer.Ordinal);
        var byFile = new Dictionary<string, int>(StringComparer.Ordinal);
        var byBehavior = new Dictionary<string, int>(StringComparer.Ordinal);
        var summary = new List<string>();
        var calls = 0;
        foreach (var line in File.ReadLines(straceOutput))
        {
            var call = SyncCall().Match(line);
            if (!call.Success)
            {
                if (SummaryRow().Match(line) is { Success: true } row)
                {
                    summary.Add($"{row.Groups[2].Value} {row.Groups[1].Value}");
                }

                continue;
            }

            calls++;
            var path = call.Groups[2].Value;
            var name = Path.GetFileName(path);
            var file = !path.StartsWith(_fleet.Path, StringComparison.Ordinal) ? "outside the state root: " + path
                : VmOfPath().Replace(path[_fleet.Path.Length..], "/vms/<vm>/").TrimEnd('/') switch
                {
                    var f when name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal) => f[..(f.LastIndexOf('/') + 1)] + name[1..].Split('.')[0] + ".json (temp before rename)",
                    "" => "<state root>",
                    var f => f,
                };
            var key = $"{call.Groups[1].Value} {file}";
            byFile[key] = byFile.GetValueOrDefault(key) + 1;
            var vm = VmOfPath().Match(path);
            if (vm.Success && names.TryGetValue(vm.Groups[1].Value, out var behavior))
            {
                byBehavior[behavior] = byBehavior.GetValueOrDefault(behavior) + 1;
            }
        }

        Log($"fsync-family baseline (strace -f -e trace=fsync,fdatasync,syncfs,sync_file_range, one uninterrupted castra down --all of {FleetSize} VMs): " +
            $"{calls} calls, {(double)calls / FleetSize:0.00} per VM; strace -c: {string.Join(", ", summary.DefaultIfEmpty("(no summary)"))}");
        Log("  by call and file: " + string.Join(", ", byFile.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value} ({(double)p.Value / FleetSize:0.00}/VM)")));
        Log("  per VM by behaviour: " + string.Join(", ", byBehavior.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key} {(double)p.Value / names.Values.Count(b => b == p.Key):0.00}")));
    }

    /// <summary>
    /// strace running the CLI exactly as <see cref="CliRunner"/> does (whichever castra the tests run: its start info
    /// is taken from a `castra --version` it starts), CLI arguments still to be added. Only the fsync family stops the
    /// process (a seccomp filter), so the run is hardly slowed; -y names each file.
    /// </summary>
    private static async Task<ProcessStartInfo> UnderStraceAsync(string strace, string output)
    {
        using var probe = CliRunner.Start("--version");
        var drained = Task.WhenAll(probe.StandardOutput.ReadToEndAsync(), probe.StandardError.ReadToEndAsync());
        await probe.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await drained.WaitAsync(TimeSpan.FromSeconds(10));
        var cli = probe.StartInfo;
        var psi = new ProcessStartInfo(strace) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-f", "--seccomp-bpf", "-qq", "-e", "signal=none", "-C", "-y", "-e", "trace=fsync,fdatasync,syncfs,sync_file_range", "-o", output, "--", cli.FileName })
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var arg in cli.ArgumentList.Take(cli.ArgumentList.Count - 1))
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in cli.Environment)
        {
            psi.Environment[name] = value;
        }

        foreach (var name in psi.Environment.Keys.Where(k => !cli.Environment.ContainsKey(k)).ToList())
        {
            psi.Environment.Remove(name);
        }

        return psi;
    }

    /// <summary>strace, when installed and allowed to trace here (a container may forbid ptrace or seccomp filters).</summary>
    private async Task<string?> FindStraceAsync()
    {
        var strace = new[] { "/usr/bin/strace", "/bin/strace", "/usr/local/bin/strace" }.FirstOrDefault(File.Exists);
        if (strace is null)
        {
            Log("strace is not installed (apt-get install strace): no fsync baseline");
            return null;
        }

        var psi = new ProcessStartInfo(strace) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-f", "--seccomp-bpf", "-qq", "-e", "trace=fsync", "-o", "/dev/null", "--", "/bin/true" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var probe = Process.Start(psi)!;
        var stderr = probe.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await probe.WaitForExitAsync(cts.Token);
        if (probe.ExitCode != 0)
        {
            Log($"strace cannot trace here ({(await stderr).Trim()}): no fsync baseline");
            return null;
        }

        return strace;
    }

    private static ShutdownEvent? TryParse(string line)
    {
        try
        {
            return EventJson.Deserialize(line);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private void Fail(string label, List<string> problems)
    {
        if (problems.Count > 0)
        {
            Assert.Fail($"{label}: {problems.Count} breaches of the durability contract:\n  " +
                string.Join("\n  ", problems.Take(25)) + (problems.Count > 25 ? $"\n  … and {problems.Count - 25} more" : "") + $"\nlog so far:\n{_log}");
        }
    }

    private void Log(string line)
    {
        _log.AppendLine(line);
        _output.WriteLine(line);
    }

    private static string Excerpt(string text) => text.Length <= 160 ? text : text[..160] + "…";

    [GeneratedRegex(@"^\.[^/]+\.(\d+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempName();

    [GeneratedRegex(@"^castra: warning: .* \[(Castra\w+)\]$")]
    private static partial Regex WarningId();

    /// <summary>"PID fsync(FD&lt;/path&gt;) = 0", or the "&lt;unfinished …&gt;" start of one.</summary>
    [GeneratedRegex(@"^\d+\s+(fsync|fdatasync|syncfs|sync_file_range)\(\d+(?:<([^>]*)>)?")]
    private static partial Regex SyncCall();

    [GeneratedRegex(@"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$")]
    private static partial Regex SummaryRow();

    [GeneratedRegex(@"/vms/([^/]+)(?:/|$)")]
    private static partial Regex VmOfPath();

    /// <summary>The warning of a run whose durable point timed out or failed (docs/state-layout.md, Durability).</summary>
    [GeneratedRegex(@"^castra: warning: ([^:]+): its shutdown record could not be made durable")]
    private static partial Regex NotDurable();

    private sealed record JournalLine(long Offset, ShutdownEvent Event);

    /// <param name="WholeLength">Bytes up to the last newline: where the next run starts once a torn tail is cut.</param>
    private sealed record Journal(List<JournalLine> Lines, List<(string Id, List<JournalLine> Lines)> Runs, long WholeLength);

    /// <summary>One castra CLI process: its output drained as it comes (so it never blocks on a full pipe), killable at an instant or after the Nth event line.</summary>
    private sealed class CastraRun : IDisposable
    {
        private readonly Process _process;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<string> _stdout = [];
        private readonly List<string> _stderr = [];
        private readonly Task _pumps;
        private readonly int _killAfterLines;
        private readonly object _gate = new();
        private Timer? _timer;

        /// <param name="process">Started, its stdout and stderr redirected.</param>
        public CastraRun(Process process, int killAfterLines)
        {
            _killAfterLines = killAfterLines;
            _process = process;
            Pid = _process.Id;
            _pumps = Task.WhenAll(Pump(_process.StandardOutput, _stdout, countTowardsKill: true), Pump(_process.StandardError, _stderr, countTowardsKill: false));
        }

        public int Pid { get; }

        public TimeSpan? KillSentAt { get; private set; }

        public int LinesAtKill { get; private set; }

        public TimeSpan Elapsed { get; private set; }

        public int ExitCode => _process.ExitCode;

        /// <summary>Our SIGKILL ended it (exit status 128 + 9), not its own exit just before.</summary>
        public bool DiedOfKill => KillSentAt is not null && _process.HasExited && _process.ExitCode == 137;

        public IReadOnlyList<string> Stdout
        {
            get
            {
                lock (_stdout)
                {
                    return [.. _stdout];
                }
            }
        }

        public IReadOnlyList<string> Stderr
        {
            get
            {
                lock (_stderr)
                {
                    return [.. _stderr];
                }
            }
        }

        public void KillAt(TimeSpan instant)
        {
            var due = instant - _clock.Elapsed;
            _timer = new Timer(_ => Kill(), null, due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }

        /// <summary>SIGKILL, once, if it still runs.</summary>
        public void Kill()
        {
            lock (_gate)
            {
                if (KillSentAt is not null)
                {
                    return;
                }

                try
                {
                    if (!_process.HasExited)
                    {
                        LinesAtKill = Stdout.Count;
                        _process.Kill();
                        KillSentAt = _clock.Elapsed;
                    }
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // It ended on its own meanwhile.
                }
            }
        }

        /// <summary>False when it is still running after <paramref name="limit"/>.</summary>
        public async Task<bool> WaitAsync(TimeSpan limit)
        {
            try
            {
                await _process.WaitForExitAsync().WaitAsync(limit);
            }
            catch (TimeoutException)
            {
                return false;
            }

            Elapsed = _clock.Elapsed;
            _timer?.Dispose();

            // The pipes close with the process (it has no children): bounded all the same.
            await _pumps.WaitAsync(TimeSpan.FromSeconds(30));
            return true;
        }

        public void Dispose()
        {
            _timer?.Dispose();
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
            }

            _process.Dispose();
        }

        private async Task Pump(StreamReader reader, List<string> lines, bool countTowardsKill)
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                int count;
                lock (lines)
                {
                    lines.Add(line);
                    count = lines.Count;
                }

                if (countTowardsKill && count == _killAfterLines)
                {
                    Kill();
                }
            }
        }
    }
}

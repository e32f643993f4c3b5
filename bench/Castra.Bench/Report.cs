using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Castra.Bench;

/// <summary>The report as a table (for people) or JSON (for tools and docs/performance.md updates).</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string ToJson(BenchReport report) => JsonSerializer.Serialize(report, JsonOptions);

    public static BenchReport? FromJson(string json) => JsonSerializer.Deserialize<BenchReport>(json, JsonOptions);

    public static string ToTable(BenchReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(Inv($"Castra fleet-shutdown benchmark, {report.StartedAt:yyyy-MM-dd HH:mm} UTC"));
        text.AppendLine(Inv($"machine: {report.Machine}, load {report.LoadAverage1mAtEnd:0.00} at the end"));
        text.AppendLine($"command: {report.Command}");
        text.AppendLine(Inv($"D (graceful fake's exit delay after system_powerdown) = {report.ExitDelayMs} ms"));
        foreach (var scenario in report.Runs.Select(r => r.Scenario).Distinct())
        {
            var runs = report.Runs.Where(r => r.Scenario == scenario).ToList();
            text.AppendLine();
            text.AppendLine(scenario switch
            {
                "graceful" => "Scenario 1: all graceful (default timeouts 60/10/5 s, never reached)",
                "mixed" => "Scenario 2: mixed, 70 % graceful / 20 % ignore ACPI / 10 % ignore SIGTERM (timeouts 2 s / 1 s / 1 s)",
                _ => $"Fleet mix {scenario}",
            });
            text.AppendLine(Row("N", "driver", "wall ms", "ideal ms", "wall-ideal", "overhead med/p99/max", "exit-detect med/p99", "powerdown sent med/max", "paths ok", "x castra"));
            foreach (var r in runs.OrderBy(r => r.Vms).ThenBy(r => DriverOrder(r.Driver)))
            {
                text.AppendLine(Row(
                    Inv($"{r.Vms}"),
                    r.Driver + (r.Extrapolated ? " (extrap.)" : ""),
                    N(r.WallMs),
                    N(r.IdealMs),
                    N(r.WallMs - r.IdealMs),
                    r.OverheadMs is { } o ? $"{N(o.Median)}/{N(o.P99)}/{N(o.Max)}" : "-",
                    r.ExitDetectionMs is { } e ? $"{N(e.Median)}/{N(e.P99)}" : "-",
                    r.PowerdownSentAfterMs is { } p ? $"{N(p.Median)}/{N(p.Max)}" : "-",
                    r.Extrapolated ? "-" : FleetCheck.Describe(r.PathsCorrect, r.Vms),
                    r.RatioToCastra is { } ratio ? ratio.ToString("0.0", CultureInfo.InvariantCulture) + "x" : "-"));
            }

            foreach (var r in runs.Where(r => r.PathMismatches.Count > 0 || r.Note is not null))
            {
                foreach (var m in r.PathMismatches)
                {
                    text.AppendLine(Inv($"  ! {r.Driver} N={r.Vms}: {m}"));
                }

                if (r.Note is not null)
                {
                    text.AppendLine(Inv($"  note {r.Driver} N={r.Vms}: {r.Note}"));
                }
            }
        }

        if (report.Runs.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Where the time goes (castra runs): ms since the call started, median/max over the VMs");
            foreach (var r in report.Runs.Where(r => r.Timeline is { Count: > 0 }))
            {
                text.AppendLine(Inv($"  {r.Scenario} N={r.Vms} {r.Driver}: ") + string.Join(" → ", r.Timeline!.Select(t => $"{t.Step} {N(t.MedianMs)}/{N(t.MaxMs)}")));
            }

            text.AppendLine();
            text.AppendLine("Orchestrating process (castra runs, this process): peak RSS (VmHWM reset per run), peak threads (10 ms samples), CPU");
            text.AppendLine(Row("N", "scenario", "driver", "peak RSS MB", "peak threads", "CPU ms (user)", "diagnostics"));
            foreach (var r in report.Runs.Where(r => r.Resources is not null).OrderBy(r => r.Scenario, StringComparer.Ordinal).ThenBy(r => r.Vms))
            {
                text.AppendLine(Row(Inv($"{r.Vms}"), r.Scenario, r.Driver, N(r.Resources!.PeakRssMB), Inv($"{r.Resources.PeakThreads}"), $"{N(r.Resources.CpuMs)} ({N(r.Resources.UserCpuMs)})", Inv($"{r.Diagnostics}")));
            }
        }

        if (report.Cli is { } cli)
        {
            text.AppendLine();
            text.AppendLine(Inv($"castra status, whole process, state root of 10 stopped VMs ({CliColdStart.Runs} runs each, round-robin, after one untimed run; load {cli.Load1mBefore:0.00} → {cli.Load1mAfter:0.00}):"));
            if (cli.Problem is not null)
            {
                text.AppendLine($"  {cli.Problem}");
            }

            foreach (var v in cli.Variants)
            {
                text.AppendLine(v.Problem is null
                    ? Inv($"  {v.Name,-32} min/median/max {MinMedMax(v.WallMs)} ms, methods JIT-compiled in one run: {v.JitCompiled?.ToString(CultureInfo.InvariantCulture) ?? "?"}")
                    : $"  {v.Name,-32} {v.Problem}");
            }
        }

        if (report.Guest is { } guest)
        {
            text.AppendLine();
            text.AppendLine(Inv($"Real tiny ACPI guest, one at a time, {guest.Rounds} measured rounds after a warm-up round, drivers interleaved (load {guest.Load1mBefore:0.00} → {guest.Load1mAfter:0.00}); ms min/median/max:"));
            text.AppendLine("  power-off = the guest's own: QEMU POWERDOWN event → QEMU exited; overhead = wall − power-off;");
            text.AppendLine("  before button = start → POWERDOWN; after exit = QEMU exited → the tool's result");
            text.AppendLine(GuestRow("driver", "ok", "wall", "power-off", "overhead", "before button", "after exit", "Import-Module"));
            foreach (var d in guest.Drivers)
            {
                text.AppendLine(d.Problem is not null && d.Runs == 0
                    ? $"  {d.Driver}: not measured: {d.Problem}"
                    : GuestRow(d.Driver, Inv($"{d.OkRuns}/{d.Runs}"), MinMedMax(d.WallMs), MinMedMax(d.PowerOffMs), MinMedMax(d.OverheadMs), MinMedMax(d.ButtonAfterMs), MinMedMax(d.AfterExitMs), d.ImportModuleMs is null ? "-" : MinMedMax(d.ImportModuleMs)));
                if (d.Problem is not null && d.Runs > 0)
                {
                    text.AppendLine($"    ! {d.Problem}");
                }
            }
        }

        if (report.Guest is { } split && split.Drivers.Any(d => d.Split is not null))
        {
            text.AppendLine();
            text.AppendLine("Where Castra's overhead goes (the engine's event timestamps from the VM's events.ndjson), ms min/median/max:");
            text.AppendLine(GuestRow("driver", "", "start→Requested", "Requested→button", "exit→Succeeded", "Succeeded→Complete", "Complete→return"));
            foreach (var d in split.Drivers.Where(d => d.Split is not null))
            {
                text.AppendLine(GuestRow(d.Driver, "", MinMedMax(d.Split!.StartupMs), MinMedMax(d.Split.HandshakeMs), MinMedMax(d.Split.DetectionMs), MinMedMax(d.Split.FinishMs), MinMedMax(d.Split.ReturnMs)));
            }

            foreach (var d in split.Drivers.Where(d => d.ProcessReadyMs is not null))
            {
                text.AppendLine($"  {d.Driver}: pwsh started → module imported {MinMedMax(d.ProcessReadyMs)} ms, of which Import-Module {MinMedMax(d.ImportModuleMs)} ms");
            }
        }

        if (report.Syscalls is { } sys)
        {
            text.AppendLine();
            text.AppendLine("System calls of castra down --all over graceful fakes (strace -f -c, every thread):");
            if (sys.Problem is not null)
            {
                text.AppendLine($"  {sys.Problem}");
            }

            foreach (var t in sys.Traces)
            {
                text.AppendLine(Inv($"  {(t.Native ? "native" : "JIT   ")} N={t.Vms,-5} {t.Summary.Total,8} calls = {t.PerVm,7:0.0} per VM, fsyncs {t.Summary.Syncs} = {t.SyncsPerVm:0.00} per VM, paths ok {FleetCheck.Describe(t.PathsCorrect, t.Vms)}") +
                    (t.Problems.Count > 0 ? " ! " + string.Join("; ", t.Problems) : ""));
            }

            foreach (var slope in sys.Slopes)
            {
                text.AppendLine(Inv($"  per added VM (N={slope.FromVms}→{slope.ToVms}): {slope.PerVm:0.0} calls, {slope.SyncsPerVm:0.00} fsyncs; top: ") +
                    string.Join(", ", slope.Top.Select(c => Inv($"{c.Name} {c.PerVm:0.#}"))));
            }
        }

        foreach (var (section, why) in report.Skipped ?? new Dictionary<string, string>())
        {
            text.AppendLine();
            text.AppendLine($"{section}: not measured: {why}");
        }

        text.AppendLine();
        text.AppendLine("Targets (issues 6 and 14):");
        foreach (var t in report.Targets)
        {
            var verdict = t.Pass switch { true => "PASS", false => "MISS", null => "n/a " };
            text.AppendLine($"  {verdict}  {t.Target}: {t.Measured}");
        }

        return text.ToString();
    }

    private static string GuestRow(params string[] cells) =>
        "  " + string.Join(' ', cells.Select((c, i) => c.PadRight(i == 0 ? 54 : i == 1 ? 5 : 17))).TrimEnd();

    private static string MinMedMax(Spread? s) => s is null ? "-" : $"{N(s.Min)}/{N(s.Median)}/{N(s.Max)}";

    private static int DriverOrder(string driver) => driver == "castra" ? 0 : driver.StartsWith("castra", StringComparison.Ordinal) ? 1 : 2;

    private static string Row(params string[] cells)
    {
        int[] widths = [6, 26, 10, 10, 10, 22, 20, 23, 9, 9];
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            line.Append(cells[i].PadRight(i < widths.Length ? widths[i] : 12)).Append(' ');
        }

        return "  " + line.ToString().TrimEnd();
    }

    private static string N(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

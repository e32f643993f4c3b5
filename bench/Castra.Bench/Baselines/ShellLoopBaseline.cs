using System.Diagnostics;
using System.Globalization;

namespace Castra.Bench.Baselines;

/// <summary>
/// Baseline (a): Baselines/shell-loop.sh over the same kind of fleet, timed from outside as a whole. It reports no
/// events, so only the fakes' own records say whether each VM took its path.
/// </summary>
internal static class ShellLoopBaseline
{
    /// <summary>The sleep-poll interval: the original Rust tool's 200 ms (hand-written loops often sleep 1 s).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public static async Task<RunResult> RunAsync(Fleet fleet, NativeTools tools, FleetMix mix, int exitDelayMs, CancellationToken cancellationToken)
    {
        if (!IsOnPath("socat"))
        {
            throw new InvalidOperationException("baseline (a) needs socat (./build.sh setup installs it, or: apt-get install socat)");
        }

        var timeouts = Timeouts.For(mix);
        string[] args =
        [
            tools.ShellLoop, fleet.Path, Seconds(timeouts.Cooperative), Seconds(timeouts.Term), Seconds(timeouts.Kill), Seconds(PollInterval),
        ];
        var clock = Stopwatch.StartNew();
        using var script = Process.Start(new ProcessStartInfo("bash", args) { RedirectStandardError = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start bash");
        var stderr = script.StandardError.ReadToEndAsync(cancellationToken);
        await script.WaitForExitAsync(cancellationToken);
        clock.Stop();

        var mismatches = fleet.Vms.Select(FleetCheck.Fake).OfType<string>().ToList();
        var errors = (await stderr).Trim();
        return new RunResult
        {
            Scenario = mix.Name,
            Driver = "shell-loop",
            Vms = fleet.Vms.Count,
            ExitDelayMs = exitDelayMs,
            WallMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1),
            IdealMs = timeouts.IdealMs(fleet.Vms.Select(v => v.Behavior), exitDelayMs),
            PathsCorrect = fleet.Vms.Count - mismatches.Count,
            PathMismatches = mismatches.Take(5).ToList(),
            Note = errors.Length == 0 ? null : errors,
        };
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));
}

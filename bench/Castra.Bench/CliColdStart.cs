using System.Diagnostics;
using System.Text;

namespace Castra.Bench;

/// <summary>
/// Cold start of `castra status` (Release), as users run it (`dotnet castra.dll status`): a plain publish and a
/// ReadyToRun publish (precompiled code, less JIT at start-up) of src/Castra.Cli, each started afresh several times
/// against a state root of shut-down VMs. Both publishes are built first, never timed.
/// </summary>
internal static class CliColdStart
{
    public const int Runs = 10;

    public static async Task<CliColdStartResult> MeasureAsync(string stateRoot, CancellationToken cancellationToken)
    {
        var repo = FindRepository();
        if (repo is null)
        {
            return new CliColdStartResult([], $"not measured: no Castra.sln above {AppContext.BaseDirectory} (run the bench from the repository)");
        }

        var project = Path.Combine(repo, "src", "Castra.Cli", "Castra.Cli.csproj");
        var outRoot = Path.Combine(repo, "bench", "Castra.Bench", "obj", "cli-publish");
        var variants = new List<CliVariant>();
        foreach (var (name, extra) in new (string, string[])[]
        {
            ("plain (JIT)", []),
            ("ReadyToRun", ["-r", "linux-x64", "--self-contained", "false", "-p:PublishReadyToRun=true"]),
        })
        {
            var dir = Path.Combine(outRoot, name.StartsWith("plain", StringComparison.Ordinal) ? "plain" : "r2r");
            var (ok, output) = await RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", dir, "-nologo", "-v", "q", .. extra], cancellationToken);
            if (!ok)
            {
                variants.Add(new CliVariant(name, null, null, null, $"publish failed: {Shorten(output)}"));
                continue;
            }

            var dll = Path.Combine(dir, "castra.dll");
            await RunAsync("dotnet", [dll, "status", "--home", stateRoot], cancellationToken); // warm the page cache
            var times = new List<double>();
            for (var i = 0; i < Runs; i++)
            {
                var clock = Stopwatch.StartNew();
                var (ran, text) = await RunAsync("dotnet", [dll, "status", "--home", stateRoot], cancellationToken);
                clock.Stop();
                if (!ran)
                {
                    return new CliColdStartResult(variants, $"castra status failed: {Shorten(text)}");
                }

                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            var stats = Stats.Of(times)!;
            variants.Add(new CliVariant(name, stats.Median, Math.Round(times.Min(), 1), Math.Round(new FileInfo(dll).Length / 1024.0), null));
        }

        return new CliColdStartResult(variants, null);
    }

    private static string? FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Castra.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static async Task<(bool Ok, string Output)> RunAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var text = new StringBuilder().Append(await stdout).Append(await stderr).ToString();
        return (process.ExitCode == 0, text);
    }

    private static string Shorten(string text)
    {
        var oneLine = string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return oneLine.Length <= 400 ? oneLine : oneLine[..400] + "…";
    }
}

internal sealed record CliVariant(string Name, double? MedianMs, double? MinMs, double? DllKB, string? Problem);

internal sealed record CliColdStartResult(IReadOnlyList<CliVariant> Variants, string? Problem);

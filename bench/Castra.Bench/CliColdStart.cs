using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Castra.Bench;

/// <summary>
/// `castra status`, a whole process as users run it, against a state root of 10 shut-down VMs: the native binary
/// (out/castra/castra, Native AOT), the framework-dependent build of the same code (`dotnet castra.dll`: host
/// start-up plus the JIT), and optionally that build precompiled with ReadyToRun. Each variant runs once untimed,
/// then <see cref="Runs"/> times round-robin, so a change in the machine's load hits every variant alike. Each also
/// reports how many methods the JIT compiled in one run (DOTNET_JitStdOutFile; none for the native binary).
/// </summary>
internal static class CliColdStart
{
    public const int Runs = 10;

    public static async Task<CliColdStartResult> MeasureAsync(CastraBuild build, NativeTools tools, string stateDirectory, bool includeReadyToRun, int runs, CancellationToken cancellationToken)
    {
        if (build.Missing(cli: true, jitCli: true) is { } missing)
        {
            return new CliColdStartResult([], "not measured: " + missing, 0, 0);
        }

        // A realistic small state root: 10 VMs, each with the shutdown.json and journal of a finished shutdown.
        using var fleet = Fleet.Launch(tools, Enumerable.Repeat(FakeBehavior.Graceful, 10).ToList(), 20, stateDirectory);
        await EngineRun.RunAsync(fleet, FleetMix.Graceful, 20, throttleLimit: 0, cancellationToken);

        var variants = new List<(string Name, string File, string[] Prefix)>
        {
            ("native (Native AOT)", build.NativeCli, []),
            ("JIT (dotnet castra.dll)", "dotnet", [build.JitCliDll]),
        };
        var failed = new List<CliVariant>();
        if (includeReadyToRun)
        {
            var dir = Path.Combine(build.Repository, "bench", "Castra.Bench", "obj", "cli-publish", "r2r");
            var project = Path.Combine(build.Repository, "src", "Castra.Cli", "Castra.Cli.csproj");
            var (ok, output) = await RunAsync("dotnet",
                ["publish", project, "-c", "Release", "-o", dir, "-nologo", "-v", "q", "-r", RuntimeInformation.RuntimeIdentifier,
                 "--self-contained", "false", "-p:PublishAot=false", "-p:PublishReadyToRun=true"], null, cancellationToken);
            if (ok)
            {
                variants.Add(("ReadyToRun (dotnet castra.dll)", "dotnet", [Path.Combine(dir, "castra.dll")]));
            }
            else
            {
                failed.Add(new CliVariant("ReadyToRun (dotnet castra.dll)", null, null, $"publish failed: {Shorten(output)}"));
            }
        }

        var loadBefore = MachineInfo.LoadAverage();
        var jitted = new Dictionary<string, int?>(StringComparer.Ordinal);
        var work = Path.Combine(fleet.Path, "jit");
        Directory.CreateDirectory(work);
        foreach (var (name, file, prefix) in variants)
        {
            // One untimed run that also tells how many methods still had to be JIT-compiled.
            var jitLog = Path.Combine(work, jitted.Count + ".txt");
            var (ran, text) = await RunAsync(file, [.. prefix, "status", "--home", fleet.Path], new() { ["DOTNET_JitStdOutFile"] = jitLog, ["DOTNET_JitDisasmSummary"] = "1" }, cancellationToken);
            if (!ran)
            {
                return new CliColdStartResult(failed, $"castra status ({name}) failed: {Shorten(text)}", loadBefore, MachineInfo.LoadAverage());
            }

            jitted[name] = File.Exists(jitLog) ? File.ReadLines(jitLog).Count(l => l.Contains("JIT compiled", StringComparison.Ordinal)) : (file == build.NativeCli ? 0 : null);
        }

        var times = variants.ToDictionary(v => v.Name, _ => new List<double?>(), StringComparer.Ordinal);
        for (var i = 0; i < runs; i++)
        {
            foreach (var (name, file, prefix) in variants)
            {
                var clock = Stopwatch.StartNew();
                var (ran, text) = await RunAsync(file, [.. prefix, "status", "--home", fleet.Path], null, cancellationToken);
                clock.Stop();
                if (!ran)
                {
                    return new CliColdStartResult(failed, $"castra status ({name}) failed: {Shorten(text)}", loadBefore, MachineInfo.LoadAverage());
                }

                times[name].Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        var measured = variants.Select(v => new CliVariant(v.Name, Spread.Of(times[v.Name]), jitted[v.Name], null)).Concat(failed).ToList();
        return new CliColdStartResult(measured, null, loadBefore, MachineInfo.LoadAverage());
    }

    private static async Task<(bool Ok, string Output)> RunAsync(string file, string[] args, Dictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? [])
        {
            psi.Environment[key] = value;
        }

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

/// <summary>WallMs: whole process, start to exit. JitCompiled: methods the JIT compiled in one run (0 for the native binary; null if the runtime did not say).</summary>
internal sealed record CliVariant(string Name, Spread? WallMs, int? JitCompiled, string? Problem);

internal sealed record CliColdStartResult(IReadOnlyList<CliVariant> Variants, string? Problem, double Load1mBefore, double Load1mAfter);

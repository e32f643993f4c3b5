using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Castra.Bench;

/// <summary>
/// Cold start of `castra status` (Release), as users run it (`dotnet castra.dll status`), against a state root of
/// shut-down VMs, each variant started afresh several times (round-robin) after one untimed run:
/// plain (the net8.0 CLI as shipped, JIT-compiled, rolled forward to the installed runtime); ReadyToRun as shipped
/// (net8.0, precompiled with the 8.0 runtime pack); and ReadyToRun for the installed runtime's major version (a copy
/// of the sources retargeted, so the repository's own build is untouched). Each variant also reports how many
/// methods the JIT still compiled in one run (DOTNET_JitStdOutFile), which shows whether precompiled code was used.
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

        var work = Path.Combine(repo, "bench", "Castra.Bench", "obj", "cli-publish");
        var runtimeMajor = $"net{Environment.Version.Major}.0";
        var r2r = new[] { "-r", RuntimeInformation.RuntimeIdentifier, "--self-contained", "false", "-p:PublishReadyToRun=true" };
        var published = new List<(string Name, string Dll, int? Jitted)>();
        var failed = new List<CliVariant>();
        foreach (var (name, project, extra) in new (string, string, string[])[]
        {
            ("plain (JIT), net8.0", Path.Combine(repo, "src", "Castra.Cli", "Castra.Cli.csproj"), []),
            ("ReadyToRun, net8.0", Path.Combine(repo, "src", "Castra.Cli", "Castra.Cli.csproj"), r2r),
            ($"ReadyToRun, {runtimeMajor}", RetargetedCopy(repo, Path.Combine(work, "src"), runtimeMajor), r2r),
        })
        {
            var dir = Path.Combine(work, "out", new string(name.Where(char.IsLetterOrDigit).ToArray()));
            var (ok, output) = await RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", dir, "-nologo", "-v", "q", .. extra], null, cancellationToken);
            if (!ok)
            {
                failed.Add(new CliVariant(name, null, null, null, $"publish failed: {Shorten(output)}"));
                continue;
            }

            // One untimed run that also tells how many methods still had to be JIT-compiled.
            var dll = Path.Combine(dir, "castra.dll");
            var jitLog = Path.Combine(work, "jit.txt");
            File.Delete(jitLog);
            var (ran, text) = await RunAsync("dotnet", [dll, "status", "--home", stateRoot], new() { ["DOTNET_JitStdOutFile"] = jitLog, ["DOTNET_JitDisasmSummary"] = "1" }, cancellationToken);
            if (!ran)
            {
                failed.Add(new CliVariant(name, null, null, null, $"castra status failed: {Shorten(text)}"));
                continue;
            }

            published.Add((name, dll, File.Exists(jitLog) ? File.ReadLines(jitLog).Count(l => l.Contains("JIT compiled", StringComparison.Ordinal)) : null));
        }

        // Round-robin, so a change in the machine's load during the measurement hits every variant alike.
        var times = published.ToDictionary(p => p.Name, _ => new List<double>(), StringComparer.Ordinal);
        for (var i = 0; i < Runs; i++)
        {
            foreach (var (name, dll, _) in published)
            {
                var clock = Stopwatch.StartNew();
                var (ran, text) = await RunAsync("dotnet", [dll, "status", "--home", stateRoot], null, cancellationToken);
                clock.Stop();
                if (!ran)
                {
                    return new CliColdStartResult(failed, $"castra status ({name}) failed: {Shorten(text)}");
                }

                times[name].Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        var variants = published.Select(p => new CliVariant(p.Name, Stats.Of(times[p.Name])!.Median, Math.Round(times[p.Name].Min(), 1), p.Jitted, null))
            .Concat(failed).ToList();
        return new CliColdStartResult(variants, null);
    }

    /// <summary>src/Castra.Cli and src/Castra.Core with the shared props, every net8.0 target replaced.</summary>
    private static string RetargetedCopy(string repo, string destination, string targetFramework)
    {
        if (Directory.Exists(destination))
        {
            Directory.Delete(destination, recursive: true);
        }

        foreach (var project in new[] { "Castra.Cli", "Castra.Core" })
        {
            var from = Path.Combine(repo, "src", project);
            foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(from, file);
                if (relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal))
                {
                    continue;
                }

                var target = Path.Combine(destination, "src", project, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var csproj = Path.Combine(destination, "src", project, project + ".csproj");
            File.WriteAllText(csproj, File.ReadAllText(csproj).Replace("<TargetFramework>net8.0</TargetFramework>", $"<TargetFramework>{targetFramework}</TargetFramework>", StringComparison.Ordinal));
        }

        foreach (var props in new[] { "Directory.Build.props", "Directory.Packages.props" })
        {
            File.Copy(Path.Combine(repo, props), Path.Combine(destination, props));
        }

        return Path.Combine(destination, "src", "Castra.Cli", "Castra.Cli.csproj");
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

/// <summary>JitCompiled: methods the JIT still compiled during one `castra status` (null if the runtime did not say).</summary>
internal sealed record CliVariant(string Name, double? MedianMs, double? MinMs, int? JitCompiled, string? Problem);

internal sealed record CliColdStartResult(IReadOnlyList<CliVariant> Variants, string? Problem);

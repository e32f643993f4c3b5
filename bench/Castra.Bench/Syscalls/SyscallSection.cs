using System.Globalization;
using Castra.Bench.Guest;

namespace Castra.Bench.Syscalls;

/// <summary>
/// System calls and fsyncs per VM of a graceful `castra down --all` (the native CLI, a whole process) over N fake VMs,
/// counted by `strace -f -c` across all its threads. Per VM is given two ways: the whole process divided by N, and
/// the slope between two fleet sizes, which leaves out the process's fixed start-up cost. The JIT build is traced
/// once at the largest size for comparison. strace slows every call, so no time is reported here.
/// </summary>
internal static class SyscallSection
{
    public static async Task<SyscallResult> RunAsync(CastraBuild build, NativeTools tools, IReadOnlyList<int> sizes, int exitDelayMs, string stateDirectory, TextWriter progress, CancellationToken cancellationToken)
    {
        if (!File.Exists("/usr/bin/strace"))
        {
            return new SyscallResult([], [], "not measured: strace is not installed (./build.sh setup installs it)");
        }

        if (build.Missing(cli: true, jitCli: true) is { } missing)
        {
            return new SyscallResult([], [], "not measured: " + missing);
        }

        var traces = new List<SyscallTrace>();
        var ordered = sizes.Distinct().Order().ToList();
        foreach (var n in ordered)
        {
            traces.Add(await TraceAsync(build, tools, native: true, n, exitDelayMs, stateDirectory, cancellationToken));
            progress.WriteLine(Describe(traces[^1]));
        }

        traces.Add(await TraceAsync(build, tools, native: false, ordered[^1], exitDelayMs, stateDirectory, cancellationToken));
        progress.WriteLine(Describe(traces[^1]));

        var native = traces.Where(t => t.Native).ToList();
        var slopes = new List<SyscallSlope>();
        for (var i = 1; i < native.Count; i++)
        {
            slopes.Add(SyscallSlope.Between(native[i - 1], native[i]));
        }

        return new SyscallResult(traces, slopes, null);
    }

    private static async Task<SyscallTrace> TraceAsync(CastraBuild build, NativeTools tools, bool native, int n, int exitDelayMs, string stateDirectory, CancellationToken cancellationToken)
    {
        using var fleet = Fleet.Launch(tools, Enumerable.Repeat(FakeBehavior.Graceful, n).ToList(), exitDelayMs, stateDirectory);
        var output = Path.Combine(fleet.Path, "strace.txt");
        string[] down = ["down", "--all", "--home", fleet.Path];
        string[] command = native ? [build.NativeCli, .. down] : ["/usr/bin/dotnet", build.JitCliDll, .. down];
        var (_, _, exit, _, stderr) = await ToolProcess.RunAsync("strace", ["-f", "-c", "-o", output, "--", .. command], cancellationToken);
        var wrongPaths = fleet.Vms.Select(FleetCheck.Fake).OfType<string>().ToList();
        IEnumerable<string> problems = exit == 0 ? wrongPaths : [$"castra down exited {exit}: {stderr.Trim()}", .. wrongPaths];
        var summary = StraceSummary.Parse(await File.ReadAllTextAsync(output, cancellationToken));
        return new SyscallTrace(native, n, summary, fleet.Vms.Count - wrongPaths.Count, problems.Take(3).ToList());
    }

    private static string Describe(SyscallTrace t) => string.Create(CultureInfo.InvariantCulture,
        $"syscalls: castra down --all ({(t.Native ? "native" : "JIT")}) N={t.Vms}: {t.Summary.Total} calls ({t.PerVm:0.0} per VM), {t.Summary.Syncs} fsyncs, paths ok {FleetCheck.Describe(t.PathsCorrect, t.Vms)}");
}

/// <summary>One traced `castra down --all` over <see cref="Vms"/> graceful fakes.</summary>
internal sealed record SyscallTrace(bool Native, int Vms, StraceSummary Summary, int PathsCorrect, IReadOnlyList<string> Problems)
{
    public double PerVm => Math.Round((double)Summary.Total / Vms, 1);

    public double SyncsPerVm => Math.Round((double)Summary.Syncs / Vms, 2);
}

/// <summary>Calls per additional VM between two traced fleet sizes (the process's fixed cost cancels out), per call.</summary>
internal sealed record SyscallSlope(int FromVms, int ToVms, double PerVm, double SyncsPerVm, IReadOnlyList<SyscallCount> Top)
{
    public static SyscallSlope Between(SyscallTrace small, SyscallTrace large)
    {
        var span = (double)(large.Vms - small.Vms);
        var names = small.Summary.Calls.Keys.Union(large.Summary.Calls.Keys);
        var per = names.Select(name => new SyscallCount(name, Math.Round((large.Summary.Calls.GetValueOrDefault(name) - small.Summary.Calls.GetValueOrDefault(name)) / span, 2)))
            .Where(c => c.PerVm > 0).OrderByDescending(c => c.PerVm).ToList();
        return new SyscallSlope(small.Vms, large.Vms, Math.Round((large.Summary.Total - small.Summary.Total) / span, 1), Math.Round((large.Summary.Syncs - small.Summary.Syncs) / span, 2), per.Take(15).ToList());
    }
}

internal sealed record SyscallCount(string Name, double PerVm);

internal sealed record SyscallResult(IReadOnlyList<SyscallTrace> Traces, IReadOnlyList<SyscallSlope> Slopes, string? Problem);

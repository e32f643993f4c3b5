using System.Diagnostics;

namespace Castra.Bench.Guest;

/// <summary>Runs a whole tool process and times it from just before it is started to its exit (the user's wall time).</summary>
internal static class ToolProcess
{
    public static async Task<(DateTimeOffset Started, DateTimeOffset Ended, int ExitCode, string Stdout, string Stderr)> RunAsync(
        string file, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment.Remove("CASTRA_HOME");
        var started = DateTimeOffset.UtcNow;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var ended = DateTimeOffset.UtcNow;
        return (started, ended, process.ExitCode, await stdout, await stderr);
    }
}

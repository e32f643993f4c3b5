using System.Diagnostics;

namespace Castra.Tests.Support;

/// <summary>Runs the real castra CLI, the native binary users run (<see cref="NativeCli"/>), as a separate process.</summary>
public static class CliRunner
{
    public static Process Start(params string[] args) => Start(null, args);

    /// <param name="environment">Variables to set (a null value removes one); CASTRA_HOME is removed unless set here.</param>
    private static Process Start(IReadOnlyDictionary<string, string?>? environment, string[] args)
    {
        var psi = new ProcessStartInfo(NativeCli.Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Remove("CASTRA_HOME");
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[name] = value;
        }

        return Process.Start(psi)!;
    }

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunWithEnvironmentAsync(null, args);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}

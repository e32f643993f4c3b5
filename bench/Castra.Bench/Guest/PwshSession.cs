using System.Diagnostics;
using System.Text.Json;

namespace Castra.Bench.Guest;

/// <summary>
/// A pwsh process (the repository's pinned .tools/pwsh/pwsh) running Guest/pwsh-driver.ps1: the module imported once
/// (Import-Module timed inside pwsh), then Stop-CastraVm per request, timed inside pwsh, so pwsh's own start-up and
/// the pipe never count in the cmdlet's figure.
/// </summary>
internal sealed class PwshSession : IDisposable
{
    private readonly Process _pwsh;

    private PwshSession(Process pwsh, double importMs, double readyMs)
    {
        _pwsh = pwsh;
        ImportModuleMs = importMs;
        ProcessReadyMs = readyMs;
    }

    /// <summary>Import-Module of out/Castra in this (fresh) pwsh, timed inside pwsh.</summary>
    public double ImportModuleMs { get; }

    /// <summary>pwsh started → the module imported and the driver ready (what a fresh session costs before the first call).</summary>
    public double ProcessReadyMs { get; }

    public static async Task<PwshSession> StartAsync(CastraBuild build, CancellationToken cancellationToken)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "native", "pwsh-driver.ps1");
        var psi = new ProcessStartInfo(build.Pwsh, ["-NoProfile", "-NonInteractive", "-File", script, "-Module", build.Module])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment.Remove("CASTRA_HOME");
        var clock = Stopwatch.StartNew();
        var pwsh = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {build.Pwsh}");
        try
        {
            using var ready = await ReadAnswerAsync(pwsh, cancellationToken);
            clock.Stop();
            return new PwshSession(pwsh, ready.RootElement.GetProperty("importMs").GetDouble(), clock.Elapsed.TotalMilliseconds);
        }
        catch
        {
            pwsh.Kill();
            pwsh.Dispose();
            throw;
        }
    }

    public async Task<DriverRun> StopAsync(string name, string stateRoot, CancellationToken cancellationToken)
    {
        var request = JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = name, ["stateRoot"] = stateRoot });
        await _pwsh.StandardInput.WriteLineAsync(request.AsMemory(), cancellationToken);
        await _pwsh.StandardInput.FlushAsync(cancellationToken);
        using var answer = await ReadAnswerAsync(_pwsh, cancellationToken);
        var root = answer.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"Stop-CastraVm failed: {error.GetString()}");
        }

        var outcome = root.GetProperty("outcome").GetString();
        return new DriverRun(
            new DateTimeOffset(root.GetProperty("startedTicks").GetInt64(), TimeSpan.Zero),
            new DateTimeOffset(root.GetProperty("endedTicks").GetInt64(), TimeSpan.Zero),
            outcome == "Graceful",
            outcome == "Graceful" ? null : $"outcome {outcome}, events {root.GetProperty("types").GetString()}");
    }

    private static async Task<JsonDocument> ReadAnswerAsync(Process pwsh, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (true)
        {
            var line = await pwsh.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                var stderr = await pwsh.StandardError.ReadToEndAsync(cancellationToken);
                throw new InvalidOperationException($"pwsh exited: {stderr.Trim()}");
            }

            // Anything else pwsh prints (it should print nothing) is skipped; answers are JSON objects.
            if (line.StartsWith('{'))
            {
                return JsonDocument.Parse(line);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            _pwsh.StandardInput.Close();
            if (!_pwsh.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _pwsh.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _pwsh.Dispose();
    }
}

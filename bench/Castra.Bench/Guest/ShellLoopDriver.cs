using System.Globalization;
using Castra.Bench.Baselines;

namespace Castra.Bench.Guest;

/// <summary>
/// Baseline (a) on the real guest: Baselines/shell-loop.sh (socat power button, `kill -0` every 200 ms, then
/// SIGTERM/SIGKILL with castra's default 60/10/5 s), the loop operators write by hand.
/// </summary>
internal sealed class ShellLoopDriver : GuestDriver
{
    public override string Name => "shell loop (socat + sleep-poll 200 ms)";

    public override string? Unavailable(GuestEnvironment environment) =>
        File.Exists("/usr/bin/socat") ? null : "socat is not installed (./build.sh setup installs it)";

    public override async Task<DriverRun> StopAsync(GuestEnvironment environment, GuestTarget guest, CancellationToken cancellationToken)
    {
        var root = ((CastraUpGuest)guest).StateRoot;
        var poll = ShellLoopBaseline.PollInterval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var (started, ended, exit, _, stderr) = await ToolProcess.RunAsync("bash", [environment.Tools.ShellLoop, root, "60", "10", "5", poll], cancellationToken);
        var quiet = exit == 0 && stderr.Trim().Length == 0;
        return new DriverRun(started, ended, quiet, quiet ? null : $"exit {exit}: {stderr.Trim()}");
    }
}

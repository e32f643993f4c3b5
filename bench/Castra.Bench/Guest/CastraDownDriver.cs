namespace Castra.Bench.Guest;

/// <summary>
/// `castra down NAME`, a whole process, as systemd units and cron run it: the native binary (out/castra/castra), or
/// the framework-dependent build of the same code (`dotnet castra.dll`: .NET start-up and the JIT included), to show
/// what Native AOT changed.
/// </summary>
internal sealed class CastraDownDriver(bool native) : GuestDriver
{
    public override string Name => native ? "castra down (native)" : "castra down (JIT: dotnet castra.dll)";

    public override string? Unavailable(GuestEnvironment environment) => environment.Build.Missing(cli: native, jitCli: !native);

    public override async Task<DriverRun> StopAsync(GuestEnvironment environment, GuestTarget guest, CancellationToken cancellationToken)
    {
        var root = ((CastraUpGuest)guest).StateRoot;
        string[] down = ["down", guest.Name, "--home", root];
        var (started, ended, exit, stdout, stderr) = native
            ? await ToolProcess.RunAsync(environment.Build.NativeCli, down, cancellationToken)
            : await ToolProcess.RunAsync("dotnet", [environment.Build.JitCliDll, .. down], cancellationToken);
        var graceful = exit == 0 && stdout.Contains("ShutdownComplete: Graceful", StringComparison.Ordinal);
        return new DriverRun(started, ended, graceful, graceful ? null : $"exit {exit}: {stdout.Trim()} {stderr.Trim()}");
    }
}

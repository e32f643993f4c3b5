namespace Castra.Bench.Guest;

/// <summary>
/// `Stop-CastraVm NAME` in pwsh. Warm: one pwsh for every run, the module imported once and the cmdlet already run
/// (the warm-up round), as in an operator's open session. Fresh: a new pwsh per run, measuring Import-Module and the
/// first Stop-CastraVm (JIT-compiling the module's and the engine's code on the way).
/// </summary>
internal sealed class StopCastraVmDriver(bool warm) : GuestDriver
{
    private PwshSession? _session;

    public override string Name => warm ? "Stop-CastraVm (warm pwsh)" : "Stop-CastraVm (fresh pwsh: first call)";

    public override string? Unavailable(GuestEnvironment environment) => environment.Build.Missing(module: true);

    public override async Task PrepareAsync(GuestEnvironment environment, CancellationToken cancellationToken)
    {
        if (warm)
        {
            _session = await PwshSession.StartAsync(environment.Build, cancellationToken);
        }
    }

    public override async Task<DriverRun> StopAsync(GuestEnvironment environment, GuestTarget guest, CancellationToken cancellationToken)
    {
        var root = ((CastraUpGuest)guest).StateRoot;
        if (warm)
        {
            return await _session!.StopAsync(guest.Name, root, cancellationToken);
        }

        using var fresh = await PwshSession.StartAsync(environment.Build, cancellationToken);
        var run = await fresh.StopAsync(guest.Name, root, cancellationToken);
        return run with { ImportModuleMs = fresh.ImportModuleMs, ProcessReadyMs = fresh.ProcessReadyMs };
    }

    public override void Dispose()
    {
        _session?.Dispose();
        base.Dispose();
    }
}

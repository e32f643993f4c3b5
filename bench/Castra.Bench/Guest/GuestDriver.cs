namespace Castra.Bench.Guest;

/// <summary>
/// One way a user stops the tiny guest: a whole `castra down` process, a cmdlet in pwsh, virsh, a shell loop. The
/// driver boots its own kind of guest (untimed), then stops it and says when it started and when the user would
/// see it finished; <see cref="GuestSection"/> adds the guest's own power-off time from the <see cref="PowerOffWatch"/>.
/// </summary>
internal abstract class GuestDriver : IDisposable
{
    public abstract string Name { get; }

    /// <summary>Null when the driver can run on this machine; otherwise why not (the section reports it, never fails).</summary>
    public virtual string? Unavailable(GuestEnvironment environment) => null;

    /// <summary>Once before the first round (e.g. start the warm pwsh); untimed.</summary>
    public virtual Task PrepareAsync(GuestEnvironment environment, CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual async Task<GuestTarget> BootAsync(GuestEnvironment environment, CancellationToken cancellationToken) =>
        await CastraUpGuest.BootAsync(environment, cancellationToken);

    public abstract Task<DriverRun> StopAsync(GuestEnvironment environment, GuestTarget guest, CancellationToken cancellationToken);

    public virtual void Dispose()
    {
    }
}

/// <summary>
/// What a driver saw: when the user's action started and when its result was in (process exit, cmdlet return, the
/// domain reported gone), whether the tool says it stopped the guest gracefully, and extras such as pwsh's import time.
/// </summary>
internal sealed record DriverRun(DateTimeOffset StartedAt, DateTimeOffset EndedAt, bool ToolSaysGraceful, string? Detail, double? ImportModuleMs = null, double? ProcessReadyMs = null);

namespace Castra.Launch;

/// <summary>How long and for what Wait-CastraVm / castra wait waits.</summary>
public sealed record ReadinessOptions
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The longest marker accepted: it is searched for across reads, so it bounds what is carried between them.</summary>
    public const int MaxMarkerLength = 256;

    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Text that must appear on the VM's serial console (serial.log) since its start; null: not waited for.</summary>
    public string? Marker { get; init; }

    /// <summary>
    /// Between looks. QEMU announces no "ready" event, so readiness is polled: an async poll per VM, each look bounded.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The bound of one look at one VM (QMP handshake, agent sync and ping): a stuck guest's look ends.</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <exception cref="Errors.CastraException">CastraInvalidTimeout, CastraInvalidLaunchOptions (marker).</exception>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromSeconds(Shutdown.ShutdownTimeouts.MaxSeconds))
        {
            throw new Errors.CastraException(Errors.ErrorIds.InvalidTimeout, Errors.CastraErrorCategory.InvalidArgument,
                $"the wait's timeout must be more than 0 and at most {Shutdown.ShutdownTimeouts.MaxSeconds} seconds");
        }

        if (Marker is { } marker && (marker.Length == 0 || marker.Length > MaxMarkerLength || marker.Contains('\n', StringComparison.Ordinal)))
        {
            throw new Errors.CastraException(Errors.ErrorIds.InvalidLaunchOptions, Errors.CastraErrorCategory.InvalidArgument,
                $"the marker must be 1 to {MaxMarkerLength} characters on one line");
        }
    }
}

namespace Castra.Launch;

/// <summary>
/// What a caller changes when starting a VM again from its recorded definition (<c>Start-CastraVm web -MemoryMB 2048</c>,
/// <c>castra up web --memory 2048</c>): each value given replaces the recorded one, the rest of the record is kept.
/// The boot source (kernel, initrd, append, disk) is never overridden piecemeal: giving one is a new definition.
/// </summary>
public sealed record LaunchOverrides
{
    public int? MemoryMB { get; init; }

    public int? CpuCount { get; init; }

    public bool? GuestAgent { get; init; }

    public double? CooperativeTimeoutSeconds { get; init; }

    public double? TermTimeoutSeconds { get; init; }

    public double? KillTimeoutSeconds { get; init; }

    public string? QemuPath { get; init; }

    public string? Accelerator { get; init; }

    public IReadOnlyList<string>? ExtraArguments { get; init; }

    /// <summary>Recorded in vm.json in turn, like the timeouts (null keeps what vm.json holds).</summary>
    public int? ShutdownOrder { get; init; }

    public Shutdown.ShutdownEscalation? Escalation { get; init; }

    public double? SaveTimeoutSeconds { get; init; }

    /// <summary>Boot afresh, discarding a saved image (not recorded: it applies to this start only).</summary>
    public bool DiscardSavedState { get; init; }

    public static LaunchOverrides None { get; } = new();
}

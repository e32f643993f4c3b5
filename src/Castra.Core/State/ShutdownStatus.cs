namespace Castra.State;

/// <summary>
/// The current or last shutdown of a VM as any session sees it (Get-CastraShutdownStatus, castra status).
/// Flat and JSON-friendly like the events.
/// </summary>
public sealed record ShutdownStatus
{
    public string VmName { get; init; } = "";

    public string ShutdownId { get; init; } = "";

    /// <summary>InProgress, Complete, or Interrupted (the owner died before completing).</summary>
    public string State { get; init; } = "";

    /// <summary>
    /// Requested, DrainingSessions, PreStopHooks, Cooperative, Terminating, Killing, PostStopHooks or Complete
    /// (where an interrupted one stopped).
    /// </summary>
    public string Phase { get; init; } = "";

    public string Reason { get; init; } = "";

    public string? Message { get; init; }

    public bool Force { get; init; }

    public DateTime StartedAt { get; init; }

    public DateTime UpdatedAt { get; init; }

    public DateTime Deadline { get; init; }

    /// <summary>Milliseconds until the deadline while in progress; 0 otherwise.</summary>
    public long RemainingMs { get; init; }

    public int OwnerPid { get; init; }

    public string OwnerHost { get; init; } = "";

    public int? QemuPid { get; init; }

    public long CooperativeTimeoutMs { get; init; }

    public long TermTimeoutMs { get; init; }

    public long KillTimeoutMs { get; init; }

    /// <summary>PreStop plus PostStop hooks the run will run (0 until it has found QEMU, running or dead with its pidfile left, and loaded them).</summary>
    public int HooksTotal { get; init; }

    public int HooksCompleted { get; init; }

    /// <summary>The hooks running now, comma-separated (castra.drain-sessions during the drain); null when none.</summary>
    public string? RunningHooks { get; init; }

    public int SessionsInterrupted { get; init; }

    /// <summary>The VM has a saved image (saved-state.img): its next start resumes it. Read from the directory, not shutdown.json.</summary>
    public bool SavedState { get; init; }

    /// <summary>The -SaveState snapshot, if one was written.</summary>
    public string? SaveStatePath { get; init; }

    public string? Outcome { get; init; }

    public bool? Changed { get; init; }

    public long? TotalMs { get; init; }

    public DateTime? CompletedAt { get; init; }

    public string? Detail { get; init; }

    public string? TakeoverOf { get; init; }

    /// <summary>The state root the VM lives under, so piped objects find it again (binds -StateRoot by property name).</summary>
    public string StateRoot { get; init; } = "";
}

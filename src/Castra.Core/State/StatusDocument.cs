namespace Castra.State;

/// <summary>
/// The content of <c>shutdown.json</c>, written by the process orchestrating a shutdown at every phase change and
/// replaced atomically (write + rename), so another process can read it at any moment.
/// </summary>
public sealed class StatusDocument
{
    public string VmName { get; set; } = "";

    public string ShutdownId { get; set; } = "";

    /// <summary>Requested, DrainingSessions, PreStopHooks, Cooperative, Terminating, Killing, PostStopHooks, Complete.</summary>
    public string Phase { get; set; } = "";

    public string Reason { get; set; } = "";

    public string? Message { get; set; }

    public bool Force { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>StartedAt plus every stage budget: the latest moment this shutdown can end.</summary>
    public DateTimeOffset Deadline { get; set; }

    public int OwnerPid { get; set; }

    public string OwnerHost { get; set; } = "";

    /// <summary>The owner's /proc start time, so a recycled owner PID is not mistaken for a live owner.</summary>
    public ulong? OwnerStartTime { get; set; }

    /// <summary>Byte offset in events.ndjson where this shutdown's events begin (followers start reading there).</summary>
    public long JournalOffset { get; set; }

    public int? QemuPid { get; set; }

    public long CooperativeTimeoutMs { get; set; }

    public long TermTimeoutMs { get; set; }

    public long KillTimeoutMs { get; set; }

    /// <summary>Hooks this shutdown will run (PreStop unless skipped, and PostStop), known once QEMU is found running (or found dead with its pidfile left, PostStop only).</summary>
    public int HooksTotal { get; set; }

    public int HooksCompleted { get; set; }

    /// <summary>The hooks running right now (comma-separated; several when they share a priority).</summary>
    public string? RunningHooks { get; set; }

    public int SessionsInterrupted { get; set; }

    /// <summary>The -SaveState snapshot, once written.</summary>
    public string? SaveStatePath { get; set; }

    /// <summary>Set when Complete: Graceful, Forced, Failed or Cancelled.</summary>
    public string? Outcome { get; set; }

    public bool? Changed { get; set; }

    public long? TotalMs { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public string? Detail { get; set; }

    /// <summary>The id of an interrupted shutdown this one took over, if any.</summary>
    public string? TakeoverOf { get; set; }

    /// <summary>Not yet complete (it may have been interrupted: see <see cref="IsInProgress"/>).</summary>
    internal bool IsIncomplete() => Phase != Shutdown.ContractNames.Of(Shutdown.ShutdownPhase.Complete);

    /// <summary>Incomplete and its owner is still alive: a shutdown is running right now.</summary>
    internal bool IsInProgress() => IsIncomplete() && Processes.OwnerProcess.IsAlive(OwnerPid, OwnerStartTime);
}

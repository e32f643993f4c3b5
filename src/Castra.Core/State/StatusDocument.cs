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

    /// <summary>The cooperative method asked for (Auto, Acpi, Agent): shown to a second caller that follows this run.</summary>
    public string? Method { get; set; }

    public DateTime StartedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>StartedAt plus every stage budget: the latest moment this shutdown can end.</summary>
    public DateTime Deadline { get; set; }

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

    /// <summary>The process groups of the hooks running right now (ended by a takeover if this run dies).</summary>
    public List<HookGroupRecord>? HookGroups { get; set; }

    /// <summary>The -SaveState snapshot, once written.</summary>
    public string? SaveStatePath { get; set; }

    /// <summary>Set when Complete: Graceful, Forced, Failed or Cancelled.</summary>
    public string? Outcome { get; set; }

    public bool? Changed { get; set; }

    public long? TotalMs { get; set; }

    public DateTime? CompletedAt { get; set; }

    public string? Detail { get; set; }

    /// <summary>The id of an interrupted shutdown this one took over, if any.</summary>
    public string? TakeoverOf { get; set; }

    /// <summary>
    /// Checks what was read from disk like user input: the document names this VM, its phase is known, its numbers
    /// are in range and its strings present. Returns itself.
    /// </summary>
    /// <exception cref="InvalidDataException">The document cannot be believed.</exception>
    internal StatusDocument Validate(VmPaths vm)
    {
        string? problem = null;
        if (VmName != vm.Name)
        {
            problem = "names another VM";
        }
        else if (string.IsNullOrEmpty(ShutdownId) || ShutdownId.Length > 128)
        {
            problem = "has no usable ShutdownId";
        }
        else if (Phase is null || !Enum.TryParse<Shutdown.ShutdownPhase>(Phase, ignoreCase: false, out _) || int.TryParse(Phase, out _))
        {
            problem = "has an unknown Phase";
        }
        else if (OwnerPid <= 0 || JournalOffset < 0 || CooperativeTimeoutMs < 0 || TermTimeoutMs < 0 || KillTimeoutMs < 0
            || HooksTotal < 0 || HooksCompleted < 0 || SessionsInterrupted < 0 || QemuPid <= 0)
        {
            problem = "holds a negative or zero number where a positive one belongs";
        }
        else if (Deadline < StartedAt)
        {
            problem = "has a deadline before its start";
        }
        else if (HookGroups is { } groups && groups.Any(g => g is null || g.ProcessGroup <= 1 || g.Hook is null))
        {
            problem = "records a hook process group that is not one";
        }

        if (problem is not null)
        {
            throw new InvalidDataException($"{vm.Status} {problem}: it is not a status document Castra wrote");
        }

        Reason ??= "";
        OwnerHost ??= "";
        return this;
    }

    /// <summary>Not yet complete (it may have been interrupted: see <see cref="IsInProgress"/>).</summary>
    internal bool IsIncomplete() => Phase != Shutdown.ContractNames.Of(Shutdown.ShutdownPhase.Complete);

    /// <summary>Incomplete and its owner is still alive: a shutdown is running right now.</summary>
    internal bool IsInProgress() => IsIncomplete() && Processes.OwnerProcess.IsAlive(OwnerPid, OwnerStartTime);
}

using Castra.Errors;
using Castra.Hooks;
using Castra.Qmp;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>What the caller asks of one shutdown call (all VMs in it).</summary>
public sealed record ShutdownOptions
{
    /// <summary>Null: the VM's vm.json value, else 60 s.</summary>
    public TimeSpan? CooperativeTimeout { get; init; }

    /// <summary>Null: the VM's vm.json value, else 10 s.</summary>
    public TimeSpan? TermTimeout { get; init; }

    /// <summary>Null: the VM's vm.json value, else 5 s.</summary>
    public TimeSpan? KillTimeout { get; init; }

    /// <summary>
    /// Save instead of power off (-Save, --save): pause the guest, write its whole state to the VM's image, end QEMU
    /// (outcome Saved); the next start resumes it. A save that fails leaves the VM running and the run Failed.
    /// </summary>
    public bool Save { get; init; }

    /// <summary>What follows a cooperative step that did not stop the VM: the signals, or a save first. Null: the VM's vm.json, else Signals.</summary>
    public ShutdownEscalation? Escalation { get; init; }

    /// <summary>How long a save may take (-SaveTimeout, --save-timeout); null: the VM's vm.json, else 30 s.</summary>
    public TimeSpan? SaveTimeout { get; init; }

    public static readonly TimeSpan DefaultSaveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The save timeout in effect.</summary>
    public TimeSpan EffectiveSaveTimeout => SaveTimeout ?? DefaultSaveTimeout;

    /// <summary>
    /// These options for one VM: the escalation and save timeout the call left open taken from the VM's vm.json
    /// (Start-CastraVm -Escalation, castra up --escalation), else the defaults. The plan is built from the result.
    /// </summary>
    public ShutdownOptions ResolveFor(VmDefinition? definition) => this with
    {
        Escalation = Escalation ?? VmDefinition.ParseEscalation(definition?.Escalation) ?? ShutdownEscalation.Signals,
        SaveTimeout = SaveTimeout ?? (definition?.SaveTimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null),
    };

    public ShutdownReason Reason { get; init; } = ShutdownReason.UserRequested;

    public string? Message { get; init; }

    /// <summary>Skip the cooperative step: SIGTERM, then SIGKILL. The event sequence keeps its shape.</summary>
    public bool Force { get; init; }

    /// <summary>At most this many VMs are worked on at once; 0 means no limit.</summary>
    public int ThrottleLimit { get; init; }

    /// <summary>
    /// Refuse to start (CastraDeadlineExceeded, naming the VMs) when any VM's worst case, from the same pre-flight
    /// look as the plan, exceeds this. Null: no check.
    /// </summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>
    /// The pause after each shutdown group before the next one starts (not after the last): time for what the stopped
    /// VMs served to notice (connections drained, replicas failed over). 0 to 86400 s; default none.
    /// </summary>
    public TimeSpan GroupDelay { get; init; }

    /// <summary>Stop every VM of the call at once, whatever its <see cref="Shutdown.ShutdownOrder"/> (one group, no delay).</summary>
    public bool IgnoreOrder { get; init; }

    /// <summary>Which cooperative channel to use (default Auto: agent if alive, else ACPI).</summary>
    public CooperativeMethod Method { get; init; } = CooperativeMethod.Auto;

    /// <summary>
    /// The ACPI power button is pressed again at this interval inside the cooperative window: a press that arrives
    /// before the guest OS listens (right after boot) is lost, so one press is not enough.
    /// </summary>
    public TimeSpan AcpiResendInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long Auto/Agent wait for the guest agent to answer guest-sync before relying on it.</summary>
    public TimeSpan AgentProbeTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Per-step bounds of the QMP exchange (each also capped by the cooperative window).</summary>
    public QmpTimeouts Qmp { get; init; } = QmpTimeouts.Default;

    /// <summary>Continue (default): a failing hook is reported and the shutdown goes on. Stop: a failing PreStop hook aborts it before the guest is touched.</summary>
    public HookErrorAction HookErrorAction { get; init; } = HookErrorAction.Continue;

    /// <summary>How long the VM's guest sessions get after SIGINT before SIGTERM (0 to 86400 s).</summary>
    public TimeSpan DrainTimeout { get; init; } = DefaultDrainTimeout;

    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Write a debug snapshot (status, events, hook results, serial-log tail) into the VM's directory at the end.</summary>
    public bool SaveState { get; init; }

    /// <summary>How the calling face spells the options that hints name (e.g. the guest agent option at launch).</summary>
    public Text.Wording Wording { get; init; } = Text.Wording.Neutral;

    /// <summary>False forces the polling fallback even where pidfd works (tests and the benchmark use it).</summary>
    public bool UsePidfd { get; init; } = true;

    /// <exception cref="CastraException">ErrorId CastraInvalidTimeout or CastraInvalidArgument.</exception>
    public void Validate()
    {
        Check(CooperativeTimeout, nameof(CooperativeTimeout));
        Check(TermTimeout, nameof(TermTimeout));
        Check(KillTimeout, nameof(KillTimeout));
        Check(SaveTimeout, nameof(SaveTimeout));
        if (Save && Force)
        {
            throw new CastraException(ErrorIds.InvalidArgument, CastraErrorCategory.InvalidArgument,
                $"{Wording.Name(Text.Term.Save)} and {Wording.Name(Text.Term.TurnOff)} cannot be combined: a save keeps the VM's state, turning it off discards it.");
        }

        if (Deadline is { } deadline && deadline <= TimeSpan.Zero)
        {
            throw new CastraException(ErrorIds.InvalidTimeout, CastraErrorCategory.InvalidArgument, $"Deadline must be positive, not {deadline.TotalSeconds} s.");
        }

        if (AcpiResendInterval <= TimeSpan.Zero || AgentProbeTimeout <= TimeSpan.Zero)
        {
            throw new CastraException(ErrorIds.InvalidTimeout, CastraErrorCategory.InvalidArgument, "AcpiResendInterval and AgentProbeTimeout must be positive.");
        }

        if (DrainTimeout < TimeSpan.Zero || DrainTimeout.TotalSeconds > ShutdownTimeouts.MaxSeconds)
        {
            throw new CastraException(ErrorIds.InvalidTimeout, CastraErrorCategory.InvalidArgument,
                $"DrainTimeout must be 0 to {ShutdownTimeouts.MaxSeconds} seconds, not {DrainTimeout.TotalSeconds} s.");
        }

        if (GroupDelay < TimeSpan.Zero || GroupDelay.TotalSeconds > ShutdownTimeouts.MaxSeconds)
        {
            throw new CastraException(ErrorIds.InvalidTimeout, CastraErrorCategory.InvalidArgument,
                $"GroupDelay must be 0 to {ShutdownTimeouts.MaxSeconds} seconds, not {GroupDelay.TotalSeconds} s.");
        }

        if (ThrottleLimit < 0)
        {
            throw new CastraException(ErrorIds.InvalidTimeout, CastraErrorCategory.InvalidArgument, $"ThrottleLimit must be 0 (no limit) or positive, not {ThrottleLimit}.");
        }
    }

    private static void Check(TimeSpan? value, string name)
    {
        if (value is { } v && !ShutdownTimeouts.IsValidSeconds(v.TotalSeconds))
        {
            throw new CastraException(
                ErrorIds.InvalidTimeout,
                CastraErrorCategory.InvalidArgument,
                $"{name} must be more than 0 and at most {ShutdownTimeouts.MaxSeconds} seconds, not {v.TotalSeconds} s.");
        }
    }
}

using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// The three stage budgets of one VM's shutdown. Precedence: the caller's option, else the VM's vm.json, else the
/// defaults (60 s / 10 s / 5 s: Proxmox and libvirt give guests about a minute; libvirt's destroy waits 10 s after
/// SIGTERM; systemd-style short final wait after SIGKILL).
/// </summary>
public sealed record ShutdownTimeouts(TimeSpan Cooperative, TimeSpan Term, TimeSpan Kill)
{
    public static readonly TimeSpan DefaultCooperative = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultTerm = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultKill = TimeSpan.FromSeconds(5);

    /// <summary>No stage may be longer than a day.</summary>
    public const double MaxSeconds = 86_400;

    public static ShutdownTimeouts Defaults { get; } = new(DefaultCooperative, DefaultTerm, DefaultKill);

    /// <summary>Every budget must be positive (a zero window could not even deliver a request) and at most a day.</summary>
    /// <summary>
    /// The longest a follower trusts another owner's recorded deadline (a value read from disk): past any real plan
    /// (three stages and a drain of at most a day each, hooks bounded by their own timeouts) yet never unbounded.
    /// </summary>
    public static readonly TimeSpan MaxFollow = TimeSpan.FromDays(7);

    public static bool IsValidSeconds(double seconds) => seconds > 0 && seconds <= MaxSeconds;

    public static ShutdownTimeouts Resolve(ShutdownOptions options, VmDefinition? definition) => new(
        options.CooperativeTimeout ?? Seconds(definition?.CooperativeTimeoutSeconds) ?? DefaultCooperative,
        options.TermTimeout ?? Seconds(definition?.TermTimeoutSeconds) ?? DefaultTerm,
        options.KillTimeout ?? Seconds(definition?.KillTimeoutSeconds) ?? DefaultKill);

    /// <summary>The longest this shutdown can take: every stage's budget, the cooperative one unless skipped.</summary>
    public TimeSpan WorstCase(bool force) => (force ? TimeSpan.Zero : Cooperative) + Term + Kill;

    private static TimeSpan? Seconds(double? seconds) => seconds is { } s ? TimeSpan.FromSeconds(s) : null;
}

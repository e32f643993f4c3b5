namespace Castra.HostShutdown;

/// <summary>One VM's share of the host-shutdown budget: the longest its shutdown could take at host shutdown.</summary>
public sealed record VmBudget
{
    public string VmName { get; init; } = "";

    /// <summary>What the preview found at install time (Running, Stopped, Stale, ShuttingDown, NotFound, Unknown).</summary>
    public string State { get; init; } = "";

    /// <summary>
    /// The worst case of its plan as if it were running, with a session drain and its hooks (a VM stopped at install
    /// time may be running at shutdown); for a running VM at least the preview's worst case.
    /// </summary>
    public long WorstCaseMs { get; init; }
}

namespace Castra.HostShutdown;

/// <summary>What an install or a remove did: flat, for both faces (the CLI prints it, the cmdlets write it).</summary>
public sealed record HostShutdownChange
{
    public string UnitName { get; init; } = "";

    public string Path { get; init; } = "";

    /// <summary>Installed (a new file), Replaced (a file Castra wrote, or one replaced under -Force/--force) or Removed.</summary>
    public string Action { get; init; } = "";

    /// <summary>True when systemd is the running init and the systemctl commands below were run.</summary>
    public bool SystemctlRun { get; init; }

    /// <summary>The systemctl commands run, or (when systemd is not running here) to run on the host that boots with this unit.</summary>
    public IReadOnlyList<string> Commands { get; init; } = [];

    /// <summary>The unit's TimeoutStopSec (0 for a remove).</summary>
    public long TimeoutStopSeconds { get; init; }

    /// <summary>The worst case of <c>castra down --all</c> it was derived from (0 for a remove).</summary>
    public long WorstCaseMs { get; init; }
}

namespace Castra.Bench;

/// <summary>One measured (or, clearly flagged, extrapolated) shutdown of one fleet by one driver.</summary>
internal sealed record RunResult
{
    /// <summary>The fleet's mix: graceful (scenario 1), mixed (scenario 2) or an explicit one.</summary>
    public required string Scenario { get; init; }

    /// <summary>castra, castra-throttle-1 (baseline b) or shell-loop (baseline a).</summary>
    public required string Driver { get; init; }

    public required int Vms { get; init; }

    public required int ExitDelayMs { get; init; }

    /// <summary>Wall time of the whole fleet's shutdown: one StopAsync call, or the whole script.</summary>
    public required double WallMs { get; init; }

    /// <summary>The slowest single path the fleet's behaviours dictate (D, or the timeouts an escalation waits out).</summary>
    public required double IdealMs { get; init; }

    /// <summary>Set when the figure was not measured but computed from a smaller measured run (see Note).</summary>
    public bool Extrapolated { get; init; }

    public string? Note { get; init; }

    /// <summary>VMs whose events, outcome and own record match the path their behaviour dictates.</summary>
    public required int PathsCorrect { get; init; }

    public IReadOnlyList<string> PathMismatches { get; init; } = [];

    /// <summary>Graceful VMs: ShutdownComplete.TotalMs − D.</summary>
    public Stats? OverheadMs { get; init; }

    /// <summary>Engine event that follows the exit (CooperativeSucceeded, or ShutdownComplete after SIGTERM) − the fake's own exit time.</summary>
    public Stats? ExitDetectionMs { get; init; }

    /// <summary>From the start of the call until the fake received system_powerdown (how long VMs wait for their turn).</summary>
    public Stats? PowerdownSentAfterMs { get; init; }

    public ResourceUsage? Resources { get; init; }

    /// <summary>When each step happened, in ms since the call started (median and max over the VMs): where the time goes.</summary>
    public IReadOnlyList<TimelineStep>? Timeline { get; init; }

    public int Diagnostics { get; init; }

    public double? RatioToCastra { get; init; }
}

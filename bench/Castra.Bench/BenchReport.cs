namespace Castra.Bench;

/// <summary>Everything one benchmark run measured, as printed and as serialized with --json.</summary>
internal sealed record BenchReport
{
    public required string Command { get; init; }

    public required MachineInfo Machine { get; init; }

    public required int ExitDelayMs { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required IReadOnlyList<RunResult> Runs { get; init; }

    public CliColdStartResult? Cli { get; init; }

    public Guest.GuestResult? Guest { get; init; }

    public Syscalls.SyscallResult? Syscalls { get; init; }

    /// <summary>Why a requested section did not run (e.g. the repository's build is missing), by section.</summary>
    public IReadOnlyDictionary<string, string>? Skipped { get; init; }

    public required IReadOnlyList<TargetCheck> Targets { get; init; }

    /// <summary>The 1-minute load average when the last run ended: anything else running skews every figure.</summary>
    public double LoadAverage1mAtEnd { get; init; }
}

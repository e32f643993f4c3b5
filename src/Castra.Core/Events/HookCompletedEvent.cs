namespace Castra.Events;

/// <summary>A cleanup hook ended: Succeeded (exit code 0), Failed, or TimedOut (its process group was terminated).</summary>
public sealed record HookCompletedEvent() : ShutdownEvent(EventTypes.HookCompleted)
{
    public string HookName { get; init; } = "";

    public string Stage { get; init; } = "";

    /// <summary>Succeeded, Failed or TimedOut.</summary>
    public string Status { get; init; } = "";

    public long DurationMs { get; init; }

    /// <summary>The hook's exit code (128 + N when killed by signal N); absent when it could not be started.</summary>
    public int? ExitCode { get; init; }

    /// <summary>What went wrong, with the tail of the hook's log; or what Castra's own step did.</summary>
    public string? Message { get; init; }

    /// <summary>The hook's output (stdout and stderr), in the VM's directory.</summary>
    public string? LogPath { get; init; }
}

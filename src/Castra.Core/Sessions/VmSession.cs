using System.Text.Json.Serialization;

namespace Castra.Sessions;

/// <summary>
/// A host process doing in-flight work tied to a VM (e.g. an ssh command running a job in the guest), started
/// through Castra so a shutdown can interrupt it cleanly first. Stored as <c>vms/&lt;name&gt;/sessions/&lt;RunId&gt;.json</c>.
/// </summary>
public sealed record VmSession
{
    public string RunId { get; init; } = "";

    public string VmName { get; init; } = "";

    /// <summary>The session's process; it leads its own process group (the group is what gets signalled).</summary>
    public int Pid { get; init; }

    /// <summary>Running, Draining or Stopped.</summary>
    public string Status { get; init; } = nameof(SessionStatus.Running);

    public DateTime StartedAt { get; init; }

    public DateTime? StoppedAt { get; init; }

    /// <summary>Known when the process that started it saw it end (128 + N: killed by signal N).</summary>
    public int? ExitCode { get; init; }

    /// <summary>The last signal a shutdown needed to end it (SIGINT, SIGTERM or SIGKILL), if one did.</summary>
    public string? InterruptedBy { get; init; }

    /// <summary>The command line, for people (arguments quoted where needed).</summary>
    public string Command { get; init; } = "";

    public string Executable { get; init; } = "";

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>stdout and stderr of the session.</summary>
    public string LogPath { get; init; } = "";

    /// <summary>/proc start time of <see cref="Pid"/>, so a recycled PID is never signalled.</summary>
    public ulong? ProcessStartTime { get; init; }

    public string? BootId { get; init; }

    /// <summary>Filled in when read, so piped objects find their state root again.</summary>
    [JsonIgnore]
    public string StateRoot { get; init; } = "";

    internal bool IsActive => Status != nameof(SessionStatus.Stopped);
}

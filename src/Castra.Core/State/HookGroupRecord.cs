namespace Castra.State;

/// <summary>
/// A hook's process group while it runs, in <c>shutdown.json</c>: if the orchestrator dies, the run that takes over
/// ends what the hook left running (the leader's start time and the boot id prove the group is still that hook's)
/// before running the hooks again.
/// </summary>
public sealed class HookGroupRecord
{
    public string Hook { get; set; } = "";

    /// <summary>The group id: the hook's PID (it leads its own group).</summary>
    public int ProcessGroup { get; set; }

    /// <summary>/proc start time of the leader.</summary>
    public ulong? LeaderStartTime { get; set; }

    public string? BootId { get; set; }

    /// <summary>The leader's session id (the orchestrator's session): members of another session are never the hook's.</summary>
    public int? Session { get; set; }
}

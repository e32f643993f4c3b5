using System.Text.Json.Serialization;

namespace Castra.Events;

/// <summary>
/// One step of one VM's shutdown. Every event is flat: strings, integers, booleans and a UTC timestamp only,
/// so <c>ConvertTo-Json</c> at its default depth and <c>castra --json</c> show exactly these names and values.
/// </summary>
public abstract record ShutdownEvent
{
    protected ShutdownEvent(string type) => Type = type;

    /// <summary>The event's name, e.g. "CooperativeAttempted".</summary>
    [JsonPropertyOrder(-5)]
    public string Type { get; }

    [JsonPropertyOrder(-4)]
    public string VmName { get; init; } = "";

    /// <summary>Identifies one shutdown run; every event of that run carries it (journal lines of earlier runs differ).</summary>
    [JsonPropertyOrder(-3)]
    public string ShutdownId { get; init; } = "";

    /// <summary>Position within the shutdown, from 1, without gaps.</summary>
    [JsonPropertyOrder(-2)]
    public int Sequence { get; init; }

    /// <summary>When the step happened: UTC, full precision (kept whole by ConvertTo-Json, Start-Job and remoting).</summary>
    [JsonPropertyOrder(-1)]
    public DateTime Timestamp { get; init; }

    /// <summary>
    /// The state root of the VM (not journaled: filled in where the event is reported or read back), so a piped
    /// event finds its VM again (binds -StateRoot by property name).
    /// </summary>
    [JsonIgnore]
    public string StateRoot { get; init; } = "";

    /// <summary>What happened, in one line (the table view's Detail column); derived, not journaled.</summary>
    [JsonIgnore]
    public string Summary => EventText.Describe(this);
}

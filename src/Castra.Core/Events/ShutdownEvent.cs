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

    [JsonPropertyOrder(-1)]
    public DateTimeOffset Timestamp { get; init; }
}

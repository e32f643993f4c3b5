using System.Text.Json;

namespace Castra.Qmp;

/// <summary>An asynchronous QMP event (e.g. POWERDOWN, SHUTDOWN), with its data object as raw JSON.</summary>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset ReceivedAt);

using System.Text.Json;

namespace Castra.Qmp;

/// <summary>
/// An asynchronous QMP event (e.g. POWERDOWN, SHUTDOWN): its name (printable) and its data, a detached JSON object
/// (undefined when the event had none) whose strings all decode, so ValueKind-checked reads cannot throw.
/// </summary>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset ReceivedAt);

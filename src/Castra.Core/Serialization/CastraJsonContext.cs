using System.Text.Json.Serialization;
using Castra.Events;
using Castra.State;

namespace Castra.Serialization;

/// <summary>
/// Source-generated System.Text.Json metadata for everything Castra writes: fast start-up for the CLI and
/// one set of rules (PascalCase .NET names, nulls omitted) for the journal, the status file and --json.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    PropertyNameCaseInsensitive = true,
    AllowTrailingCommas = true,
    Converters = [typeof(UtcDateTimeConverter)])]
[JsonSerializable(typeof(ShutdownRequestedEvent))]
[JsonSerializable(typeof(CooperativeAttemptedEvent))]
[JsonSerializable(typeof(CooperativeSucceededEvent))]
[JsonSerializable(typeof(CooperativeTimedOutEvent))]
[JsonSerializable(typeof(EscalationEvent))]
[JsonSerializable(typeof(SaveAttemptedEvent))]
[JsonSerializable(typeof(SaveSucceededEvent))]
[JsonSerializable(typeof(SaveFailedEvent))]
[JsonSerializable(typeof(ShutdownCompleteEvent))]
[JsonSerializable(typeof(StartedEvent))]
[JsonSerializable(typeof(Castra.Launch.VmReadiness))]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(VmDefinition))]
[JsonSerializable(typeof(ShutdownStatus))]
[JsonSerializable(typeof(VmInfo))]
[JsonSerializable(typeof(Castra.Shutdown.VmShutdownPlan))]
[JsonSerializable(typeof(Castra.Hooks.CleanupHook))]
[JsonSerializable(typeof(Castra.Events.HookStartedEvent))]
[JsonSerializable(typeof(Castra.Events.HookCompletedEvent))]
[JsonSerializable(typeof(Castra.Sessions.VmSession))]
[JsonSerializable(typeof(Castra.Shutdown.AuditRecord))]
[JsonSerializable(typeof(Castra.HostShutdown.HostShutdownUnit))]
[JsonSerializable(typeof(Castra.HostShutdown.HostShutdownChange))]
[JsonSerializable(typeof(SavedStateRecord))]
internal sealed partial class CastraJsonContext : JsonSerializerContext
{
}

/// <summary>The same settings, indented, for files people read and edit (vm.json, shutdown.json).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    PropertyNameCaseInsensitive = true,
    AllowTrailingCommas = true,
    Converters = [typeof(UtcDateTimeConverter)])]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(VmDefinition))]
[JsonSerializable(typeof(Castra.Hooks.HookFile))]
internal sealed partial class CastraIndentedJsonContext : JsonSerializerContext
{
}

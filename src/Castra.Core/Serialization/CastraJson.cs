using System.Text.Json;
using Castra.Events;
using Castra.State;

namespace Castra.Serialization;

/// <summary>One-line JSON for every public output object, with the same rules as the journal.</summary>
public static class CastraJson
{
    public static string Serialize(ShutdownEvent evt) => EventJson.Serialize(evt);

    public static string Serialize(ShutdownStatus status) => JsonSerializer.Serialize(status, CastraJsonContext.Default.ShutdownStatus);

    public static string Serialize(Castra.Shutdown.VmShutdownPlan plan) => JsonSerializer.Serialize(plan, CastraJsonContext.Default.VmShutdownPlan);

    public static string Serialize(VmInfo vm) => JsonSerializer.Serialize(vm, CastraJsonContext.Default.VmInfo);

    public static string Serialize(Castra.Launch.VmReadiness readiness) => JsonSerializer.Serialize(readiness, CastraJsonContext.Default.VmReadiness);

    public static string Serialize(Castra.Hooks.CleanupHook hook) => JsonSerializer.Serialize(hook, CastraJsonContext.Default.CleanupHook);

    public static string Serialize(Castra.HostShutdown.HostShutdownUnit unit) => JsonSerializer.Serialize(unit, CastraJsonContext.Default.HostShutdownUnit);

    public static string Serialize(Castra.HostShutdown.HostShutdownChange change) => JsonSerializer.Serialize(change, CastraJsonContext.Default.HostShutdownChange);

    public static string Serialize(Castra.Sessions.VmSession session) => JsonSerializer.Serialize(session, CastraJsonContext.Default.VmSession);
}

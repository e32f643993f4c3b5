using System.Globalization;
using Castra.Events;

namespace Castra.Bench;

/// <summary>
/// Whether each VM took exactly the path its behaviour dictates, seen from both sides: the engine's events
/// (steps, outcome) and the fake's own record (what it received, whether it exited by itself or was killed).
/// </summary>
internal static class FleetCheck
{
    /// <summary>Null when the VM's path is right, else what is wrong.</summary>
    public static string? Engine(FleetVm vm, IReadOnlyList<ShutdownEvent> events)
    {
        var complete = events.OfType<ShutdownCompleteEvent>().SingleOrDefault();
        if (complete is null)
        {
            return $"{vm.Name}: no ShutdownComplete ({string.Join(",", events.Select(e => e.Type))})";
        }

        var path = StepsOf(events);
        if (path != vm.Behavior.ExpectedPath() || complete.Outcome != vm.Behavior.ExpectedOutcome())
        {
            return $"{vm.Name} ({vm.Behavior.FlagValue()}): took {path} → {complete.Outcome}, expected {vm.Behavior.ExpectedPath()} → {vm.Behavior.ExpectedOutcome()} ({complete.Detail ?? events.OfType<CooperativeTimedOutEvent>().FirstOrDefault()?.Detail})";
        }

        return Fake(vm);
    }

    /// <summary>The fake's side only (for the shell baseline, which reports no events).</summary>
    public static string? Fake(FleetVm vm)
    {
        var records = vm.ReadRecords().Select(r => r.What).ToList();
        var powerdown = records.Contains("cmd:system_powerdown");
        var term = records.Contains("signal:TERM");
        var exited = records.Contains("exit");
        var ok = vm.Behavior switch
        {
            FakeBehavior.Graceful => powerdown && !term && exited,
            FakeBehavior.IgnoreAcpi => powerdown && term && exited,
            FakeBehavior.IgnoreTerm => powerdown && term && !exited,
            _ => false,
        };
        if (vm.IsAlive)
        {
            return $"{vm.Name} ({vm.Behavior.FlagValue()}): still running after the shutdown";
        }

        return ok ? null : $"{vm.Name} ({vm.Behavior.FlagValue()}): the fake recorded {string.Join(",", records)}";
    }

    /// <summary>The steps that acted (cooperative methods tried, signals sent), as the audit trail records them.</summary>
    public static string StepsOf(IEnumerable<ShutdownEvent> events) => Castra.Shutdown.AuditTrail.PathOf(events);

    public static string Describe(int correct, int total) =>
        correct == total ? "all " + total.ToString(CultureInfo.InvariantCulture) : $"{correct}/{total}";
}

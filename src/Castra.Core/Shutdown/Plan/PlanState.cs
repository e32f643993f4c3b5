namespace Castra.Shutdown.Plan;

/// <summary>What a preview found of a VM (VmShutdownPlan.State, spelled from these names).</summary>
internal enum PlanState
{
    Running,
    Stopped,
    Stale,
    ShuttingDown,
    NotFound,
    Unknown,
}

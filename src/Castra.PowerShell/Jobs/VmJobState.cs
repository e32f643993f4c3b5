using System.Management.Automation;
using Castra.Shutdown;

namespace Castra.PowerShell.Jobs;

/// <summary>
/// The state a VM's job ends in, from that VM's outcome: one rule for the local per-VM jobs and the per-VM jobs of a
/// call across hosts (there the outcome is the ShutdownComplete event's).
/// </summary>
internal static class VmJobState
{
    /// <param name="outcome">The VM's outcome; null when it has none (never worked on, or its run failed).</param>
    public static JobState For(ShutdownOutcome? outcome) => outcome switch
    {
        null => JobState.Failed,
        ShutdownOutcome.Cancelled => JobState.Stopped,
        _ when VmShutdownResult.StoppedBy(outcome) => JobState.Completed,
        _ => JobState.Failed,
    };
}

namespace Castra.Shutdown;

/// <summary>How one targeted VM ended up after a call. Outcome is null when the VM was never worked on.</summary>
public sealed record VmShutdownResult(string VmName, ShutdownOutcome? Outcome, bool Changed, long TotalMs, string? ErrorId = null, string? Message = null)
{
    /// <summary>The VM's QEMU is not running any more (stopped now, or already).</summary>
    public bool Stopped => StoppedBy(Outcome);

    /// <summary>Whether a VM that ended with this outcome is not running any more (the one rule, for results and events alike).</summary>
    public static bool StoppedBy(ShutdownOutcome? outcome) => outcome is ShutdownOutcome.Graceful or ShutdownOutcome.Forced or ShutdownOutcome.Saved;
}

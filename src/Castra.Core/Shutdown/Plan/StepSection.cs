namespace Castra.Shutdown.Plan;

/// <summary>Where a step stands in a VM's sequence; the executor treats each section by its own rule.</summary>
internal enum StepSection
{
    /// <summary>Before anything is sent to QEMU: the session drain, PreStop hooks, a refusal. A failure ends the run.</summary>
    Prepare,

    /// <summary>Stopping QEMU: the cooperative step, then the signals; the first that leaves QEMU gone ends the section.</summary>
    Stop,

    /// <summary>After QEMU is gone: PostStop hooks.</summary>
    Release,
}

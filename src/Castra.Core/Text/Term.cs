namespace Castra.Text;

/// <summary>The options and commands the engine's messages point a user to; each face spells them its own way.</summary>
public enum Term
{
    /// <summary>Replace an existing hook of the same name (Register-CastraCleanupHook -Force, castra hook add --force).</summary>
    ReplaceHook,

    /// <summary>Which VM a hook is for (-VmName, --vm).</summary>
    HookVm,

    /// <summary>The state root (-StateRoot, --home; CASTRA_HOME is common to both).</summary>
    StateRoot,

    /// <summary>The QEMU binary (-QemuPath, --qemu).</summary>
    QemuPath,

    /// <summary>Software emulation (-Accelerator tcg, --accel tcg).</summary>
    SoftwareEmulation,

    /// <summary>A throwaway overlay of the disk (-Ephemeral, --ephemeral).</summary>
    Ephemeral,

    /// <summary>The kernel to boot (-Kernel, --kernel).</summary>
    Kernel,

    /// <summary>The initial ramdisk (-Initrd, --initrd).</summary>
    Initrd,

    /// <summary>The kernel command line (-Append, --append).</summary>
    Append,

    /// <summary>The disk image to boot (-Disk, --disk).</summary>
    Disk,

    /// <summary>The guest agent channel at launch (-GuestAgent, --agent).</summary>
    GuestAgent,

    /// <summary>Skip the guest: SIGTERM, then SIGKILL (-TurnOff, --force).</summary>
    TurnOff,

    /// <summary>How the guest is asked (-Method, --method).</summary>
    Method,

    /// <summary>The cooperative window (-CooperativeTimeout, --cooperative-timeout).</summary>
    CooperativeTimeout,

    /// <summary>The wait after SIGTERM (-TermTimeout, --term-timeout).</summary>
    TermTimeout,

    /// <summary>The wait after SIGKILL (-KillTimeout, --kill-timeout).</summary>
    KillTimeout,

    /// <summary>Why (-Reason, --reason).</summary>
    Reason,

    /// <summary>Free text recorded with the request (-Message, --message).</summary>
    Message,

    /// <summary>What a failed hook does (-HookErrorAction, --hook-error).</summary>
    HookErrorAction,

    /// <summary>How long sessions get after SIGINT (-DrainTimeout, --drain-timeout).</summary>
    DrainTimeout,

    /// <summary>The debug snapshot (-SaveState, --save-state).</summary>
    SaveState,

    /// <summary>Replace a unit file Castra did not write (Register-CastraHostShutdown -Force, castra host-shutdown install --force).</summary>
    ReplaceUnit,

    /// <summary>A VM's shutdown order, stored in vm.json (-ShutdownOrder, --shutdown-order).</summary>
    ShutdownOrder,

    /// <summary>The pause after each shutdown group (-GroupDelay, --group-delay).</summary>
    GroupDelay,

    /// <summary>Stop every VM at once, whatever its shutdown order (-IgnoreOrder, --ignore-order).</summary>
    IgnoreOrder,

    /// <summary>Save instead of power off (-Save, --save).</summary>
    Save,

    /// <summary>What follows the cooperative step (-Escalation, --escalation).</summary>
    Escalation,

    /// <summary>How long a save may take (-SaveTimeout, --save-timeout).</summary>
    SaveTimeout,

    /// <summary>Start afresh, discarding a saved image (-DiscardSavedState, --discard-saved-state).</summary>
    DiscardSavedState,
}

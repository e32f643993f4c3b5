namespace Castra.Hooks;

/// <summary>When a cleanup hook runs within a VM's shutdown.</summary>
public enum HookStage
{
    /// <summary>After ShutdownRequested, before the cooperative attempt: the guest is still up.</summary>
    PreStop,

    /// <summary>After the QEMU process is gone, before ShutdownComplete.</summary>
    PostStop,
}

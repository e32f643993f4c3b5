namespace Castra.Shutdown;

/// <summary>What follows a cooperative step that did not stop the VM (-Escalation, --escalation).</summary>
public enum ShutdownEscalation
{
    /// <summary>SIGTERM, then SIGKILL.</summary>
    Signals,

    /// <summary>Save the guest's state to the VM's image first; SIGTERM and SIGKILL only if the save fails.</summary>
    Save,
}

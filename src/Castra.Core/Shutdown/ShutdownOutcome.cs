namespace Castra.Shutdown;

/// <summary>How a VM's shutdown ended (<c>ShutdownComplete.Outcome</c>).</summary>
public enum ShutdownOutcome
{
    /// <summary>The guest powered off by itself, or the VM was already stopped.</summary>
    Graceful,

    /// <summary>A signal (SIGTERM or SIGKILL) ended the QEMU process.</summary>
    Forced,

    /// <summary>The VM could not be stopped (it survived SIGKILL's wait, or a hook aborted the shutdown).</summary>
    Failed,

    /// <summary>The guest's whole state was saved to the VM's image and QEMU ended: the next start resumes it.</summary>
    Saved,

    /// <summary>The caller cancelled (Ctrl+C, Stop-Job, a token): waiting stopped and no further signal was sent.</summary>
    Cancelled,
}

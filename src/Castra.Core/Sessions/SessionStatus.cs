namespace Castra.Sessions;

/// <summary>Where a guest session is.</summary>
public enum SessionStatus
{
    Running,

    /// <summary>Its VM is shutting down: it got SIGINT and has the drain period to finish.</summary>
    Draining,

    Stopped,
}

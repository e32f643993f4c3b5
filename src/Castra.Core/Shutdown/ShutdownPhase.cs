namespace Castra.Shutdown;

/// <summary>Where a shutdown is, as recorded in <c>shutdown.json</c>.</summary>
public enum ShutdownPhase
{
    Requested,
    Cooperative,
    Terminating,
    Killing,
    Complete,
}

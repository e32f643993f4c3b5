namespace Castra.Shutdown;

/// <summary>Where a shutdown is, as recorded in <c>shutdown.json</c>.</summary>
public enum ShutdownPhase
{
    Requested,
    DrainingSessions,
    PreStopHooks,
    Cooperative,
    Terminating,
    Killing,
    PostStopHooks,
    Complete,
}

namespace Castra.Shutdown;

/// <summary>Where a shutdown is, as recorded in <c>shutdown.json</c>.</summary>
public enum ShutdownPhase
{
    Requested,
    DrainingSessions,
    PreStopHooks,
    Cooperative,
    Saving,
    Terminating,
    Killing,
    PostStopHooks,
    Complete,
}

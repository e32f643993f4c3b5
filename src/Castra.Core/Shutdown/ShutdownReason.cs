namespace Castra.Shutdown;

/// <summary>Why a shutdown was asked for; caller-supplied, recorded in <c>ShutdownRequested.Reason</c>.</summary>
public enum ShutdownReason
{
    UserRequested,
    SystemShutdown,
    Administrative,
    Maintenance,
    Unhealthy,
    IdleTimeout,
    ResourceLimitExceeded,
    Replaced,
}

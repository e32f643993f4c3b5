namespace Castra.Processes;

/// <summary>What happened when a signal was sent.</summary>
internal enum SignalResult
{
    Sent,

    /// <summary>The process was already gone (ESRCH): nothing was signalled.</summary>
    AlreadyExited,

    /// <summary>The process changed identity before the signal (fallback path only): nothing was signalled.</summary>
    IdentityChanged,

    Failed,
}

namespace Castra.Shutdown;

/// <summary>Why the cooperative step did not stop the VM (<c>CooperativeTimedOut.Reason</c>).</summary>
public enum CooperativeFailureReason
{
    /// <summary>The request was delivered but the guest did not power off within the window.</summary>
    TimeoutExpired,

    /// <summary>There is no channel to ask the guest through (or the guest cannot act, e.g. paused). No wait.</summary>
    ChannelUnavailable,

    /// <summary>The channel exists but is broken (refused, no greeting, protocol error). No wait.</summary>
    ChannelError,

    /// <summary>The caller asked to skip the cooperative step.</summary>
    Skipped,
}

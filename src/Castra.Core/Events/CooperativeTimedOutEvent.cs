namespace Castra.Events;

/// <summary>The cooperative step did not stop the VM; escalation follows.</summary>
public sealed record CooperativeTimedOutEvent() : ShutdownEvent(EventTypes.CooperativeTimedOut)
{
    /// <summary>The cooperative window (0 on the Unavailable and Skipped paths, which announce and wait nothing; ChannelError repeats the window but does not wait it out).</summary>
    public long TimeoutMs { get; init; }

    /// <summary>TimeoutExpired, ChannelUnavailable, ChannelError or Skipped.</summary>
    public string Reason { get; init; } = "";

    /// <summary>What exactly happened, e.g. the socket error or the unexpected greeting.</summary>
    public string? Detail { get; init; }

    /// <summary>A one-line remediation.</summary>
    public string? Hint { get; init; }
}

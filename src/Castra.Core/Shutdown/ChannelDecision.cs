namespace Castra.Shutdown;

/// <summary>
/// Which cooperative channel a VM's shutdown will use, decided from a <see cref="ChannelProbe"/>. When
/// <see cref="Failure"/> is set the step ends at once (Unavailable paths announce TimeoutMs=0, ChannelError the window).
/// </summary>
internal sealed record ChannelDecision(
    CooperativeChannel Channel,
    CooperativeFailureReason? Failure = null,
    string? FailureDetail = null,
    string? Hint = null,
    string? AttemptDetail = null,
    bool AgentMayHandOverToAcpi = false)
{
    public bool Proceeds => Failure is null;
}

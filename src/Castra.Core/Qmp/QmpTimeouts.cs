namespace Castra.Qmp;

/// <summary>
/// Every QMP step has its own bound, so a stuck channel (stopped QEMU, a second client waiting for the first)
/// becomes a ChannelError within seconds, not after the whole cooperative window.
/// </summary>
public sealed record QmpTimeouts(TimeSpan Connect, TimeSpan Greeting, TimeSpan Reply)
{
    public static QmpTimeouts Default { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));

    /// <summary>No step may outlast what is left of the enclosing window.</summary>
    public QmpTimeouts CappedTo(TimeSpan remaining)
    {
        var cap = remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining;
        return new(Min(Connect, cap), Min(Greeting, cap), Min(Reply, cap));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

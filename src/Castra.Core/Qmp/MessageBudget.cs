using System.Diagnostics;

namespace Castra.Qmp;

/// <summary>
/// A cap on messages per second from one peer. QEMU rate-limits its chatty events (RTC_CHANGE and the like: one per
/// second each) and otherwise sends a handful around a shutdown, so a peer far above the cap is broken or hostile;
/// stopping there bounds the CPU a flood can take (parsing 100k events/s kept a core busy for the whole window).
/// </summary>
internal sealed class MessageBudget
{
    public const int DefaultPerSecond = 1000;

    private readonly int _perSecond;
    private long _windowStart = Stopwatch.GetTimestamp();
    private int _count;

    public MessageBudget(int perSecond = DefaultPerSecond) => _perSecond = perSecond;

    public int PerSecond => _perSecond;

    /// <summary>Counts one message; false once more than the cap arrived within the current second.</summary>
    public bool TryTake()
    {
        if (Stopwatch.GetElapsedTime(_windowStart) >= TimeSpan.FromSeconds(1))
        {
            _windowStart = Stopwatch.GetTimestamp();
            _count = 0;
        }

        return ++_count <= _perSecond;
    }
}

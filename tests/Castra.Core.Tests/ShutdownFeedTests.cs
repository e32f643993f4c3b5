using Castra.Events;
using Castra.Shutdown;

namespace Castra.Tests;

public sealed class ShutdownFeedTests
{
    [Fact]
    public async Task Draining_delivers_everything_in_order_on_the_calling_thread_and_ticks_while_idle()
    {
        var feed = new ShutdownFeed();
        var drainer = Environment.CurrentManagedThreadId; // DrainBlocking runs synchronously on this thread
        var producer = Task.Run(async () =>
        {
            for (var i = 1; i <= 200; i++)
            {
                feed.OnEvent(new EscalationEvent { VmName = "vm", Sequence = i });
                if (i % 50 == 0)
                {
                    await Task.Delay(300); // idle gaps: the idle callback must run
                }
            }

            feed.Complete();
        });

        var received = new List<int>();
        var threads = new HashSet<int>();
        var idles = 0;
        feed.DrainBlocking(m => { received.Add(m.Event!.Sequence); threads.Add(Environment.CurrentManagedThreadId); }, () => idles++, TimeSpan.FromMilliseconds(50));
        await producer;

        Assert.Equal(Enumerable.Range(1, 200), received);
        Assert.Equal([drainer], threads);
        Assert.True(idles >= 3, $"idle ticks: {idles}");
    }

    [Fact]
    public void Draining_an_already_completed_feed_returns_what_was_queued()
    {
        var feed = new ShutdownFeed();
        feed.OnDiagnostic(new ShutdownDiagnostic("vm", DiagnosticSeverity.Warning, "X", Castra.Errors.CastraErrorCategory.NotSpecified, "m"));
        feed.Complete();
        var count = 0;
        feed.DrainBlocking(_ => count++, () => { }, TimeSpan.FromMilliseconds(10));
        Assert.Equal(1, count);
    }
}

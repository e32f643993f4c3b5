using System.Threading.Channels;
using Castra.Events;

namespace Castra.Shutdown;

/// <summary>
/// The one queue that every VM's task writes to and that a single consumer (the CLI's main loop, a cmdlet's
/// pipeline thread) drains, so output happens on one thread, in arrival order. Unbounded: nothing is dropped.
/// </summary>
public sealed class ShutdownFeed : IShutdownObserver
{
    private readonly Channel<ShutdownMessage> _channel =
        Channel.CreateUnbounded<ShutdownMessage>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<ShutdownMessage> Reader => _channel.Reader;

    public void OnEvent(ShutdownEvent evt) => _channel.Writer.TryWrite(new ShutdownMessage(evt, null));

    public void OnDiagnostic(ShutdownDiagnostic diagnostic) => _channel.Writer.TryWrite(new ShutdownMessage(null, diagnostic));

    /// <summary>
    /// Drains the feed on the calling thread until it is completed (a cmdlet's pipeline thread: PowerShell allows
    /// output only there). <paramref name="onIdle"/> runs whenever <paramref name="idleInterval"/> passes without a
    /// message (progress countdowns). One read-wait stays pending across wake-ups: the feed has a single reader.
    /// </summary>
    public void DrainBlocking(Action<ShutdownMessage> onMessage, Action onIdle, TimeSpan idleInterval)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        ArgumentNullException.ThrowIfNull(onIdle);
        Task<bool>? pending = null;
        while (true)
        {
            while (Reader.TryRead(out var message))
            {
                onMessage(message);
            }

            if (Reader.Completion.IsCompleted)
            {
                return;
            }

            pending ??= Reader.WaitToReadAsync(CancellationToken.None).AsTask();
            if (pending.Wait(idleInterval))
            {
                pending = null;
            }
            else
            {
                onIdle();
            }
        }
    }

    /// <summary>Ends the feed; call when the engine's task finishes (pass its exception, if any).</summary>
    public void Complete(Exception? error = null) => _channel.Writer.TryComplete(error);
}

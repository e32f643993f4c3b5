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

    /// <summary>Ends the feed; call when the engine's task finishes (pass its exception, if any).</summary>
    public void Complete(Exception? error = null) => _channel.Writer.TryComplete(error);
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Castra.Qmp;

/// <summary>
/// The QEMU guest agent's host-side socket (qga.sock). The agent speaks QMP-style JSON but has no greeting and
/// may hold stale replies from an earlier client, so liveness is proven with guest-sync-delimited: its reply is
/// preceded by a 0xFF byte, and everything before that byte is discarded. (The client sends no 0xFF of its own:
/// qemu-ga 7.2 answers one with a parse error.) guest-shutdown sends no reply on success: the proof is QEMU exiting.
/// The guest controls every byte of this channel: each line is classified by <see cref="QmpMessage"/> (total), lines
/// are capped by <see cref="LineReader"/>, and every failure is a <see cref="QmpException"/> with a printable message.
/// </summary>
internal sealed class GuestAgentClient : IAsyncDisposable
{
    /// <summary>qemu-ga sends nothing after guest-shutdown (measured); a few stray replies are tolerated, a stream is not.</summary>
    private const int MaxStraysAfterShutdown = 16;

    private readonly Socket _socket;
    private readonly LineReader _reader;

    private GuestAgentClient(Socket socket)
    {
        _socket = socket;
        _reader = new LineReader(socket);
    }

    /// <summary>Connects and proves a live agent answers, all within <paramref name="timeout"/>.</summary>
    /// <exception cref="QmpException">The agent is absent, not answering, or answered wrongly.</exception>
    public static Task<GuestAgentClient> ConnectAndSyncAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken) =>
        ConnectAndSyncAsync(ChannelTarget.Of(socketPath), timeout, cancellationToken);

    /// <summary>Connects to <paramref name="target"/>, proves its peer (when it says how) and that a live agent answers, all within <paramref name="timeout"/>.</summary>
    /// <exception cref="QmpException">The agent is absent, not answering, not served by the VM's QEMU, or answered wrongly.</exception>
    public static async Task<GuestAgentClient> ConnectAndSyncAsync(ChannelTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var (connectPath, socketPath) = (target.ConnectPath, target.DisplayPath);
        if (Encoding.UTF8.GetByteCount(connectPath) > State.VmPaths.MaxSocketPathBytes)
        {
            throw new QmpException(QmpErrorKind.SocketPathTooLong, $"socket path {socketPath} exceeds the {State.VmPaths.MaxSocketPathBytes}-byte Unix socket limit");
        }

        if (!File.Exists(connectPath))
        {
            throw new QmpException(QmpErrorKind.SocketMissing, $"no guest agent socket at {socketPath}");
        }

        var socket = SocketSteps.NewUnixSocket();
        var client = new GuestAgentClient(socket);
        try
        {
            var token = Random.Shared.Next(1, int.MaxValue);
            await SocketSteps.WithTimeout(
                async ct =>
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(connectPath), ct).ConfigureAwait(false);
                    target.Verify(socket);
                    await client.SendAsync($"{{\"execute\":\"guest-sync-delimited\",\"arguments\":{{\"id\":{token.ToString(CultureInfo.InvariantCulture)}}}}}\n", ct).ConfigureAwait(false);
                    return await client.ReadSyncReplyAsync(token, ct).ConfigureAwait(false);
                },
                timeout,
                QmpErrorKind.ReplyTimeout,
                $"the guest agent did not answer guest-sync within {timeout.TotalMilliseconds:0} ms (is qemu-ga running in the guest?)",
                cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// guest-ping after the sync: the agent answers commands, not only the sync (Wait-CastraVm). Anything but
    /// <c>{"return": {}}</c> within <paramref name="timeout"/> is a <see cref="QmpException"/> saying what came.
    /// </summary>
    public Task PingAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        SocketSteps.WithTimeout(
            async ct =>
            {
                await SendAsync("{\"execute\":\"guest-ping\"}\n", ct).ConfigureAwait(false);
                var line = await _reader.ReadLineAsync(ct).ConfigureAwait(false)
                    ?? throw new QmpException(QmpErrorKind.Disconnected, "the guest agent channel closed during guest-ping");
                if (line.Oversized)
                {
                    throw new QmpException(QmpErrorKind.ProtocolError,
                        $"the guest agent answered guest-ping with a line longer than {LineReader.DefaultMaxLineBytes} bytes: {ChannelText.Excerpt(line.Bytes.Span)}…");
                }

                switch (QmpMessage.Parse(line.Bytes))
                {
                    case QmpMessage.Return reply:
                        using (reply)
                        {
                            return reply.Value.ValueKind == System.Text.Json.JsonValueKind.Object ? true
                                : throw new QmpException(QmpErrorKind.MalformedMessage,
                                    $"the guest agent answered guest-ping with a malformed reply (its return is {ChannelJson.Describe(reply.Value.ValueKind)}, not an object): {reply.Excerpt}");
                        }

                    case QmpMessage.Error error:
                        throw new QmpException(QmpErrorKind.CommandFailed, $"the guest agent refused guest-ping: {error.Class}: {error.Description}");
                    case QmpMessage.Unrecognised bad:
                        throw new QmpException(bad.Kind, $"the guest agent answered guest-ping with {bad.What}: {bad.Excerpt}");
                    default:
                        throw new QmpException(QmpErrorKind.MalformedMessage, "the guest agent answered guest-ping with a message it never sends");
                }
            },
            timeout,
            QmpErrorKind.ReplyTimeout,
            $"the guest agent did not answer guest-ping within {timeout.TotalMilliseconds:0} ms",
            cancellationToken);

    public Task RequestShutdownAsync(CancellationToken cancellationToken) =>
        SocketSteps.WithTimeout(
            async ct => { await SendAsync("{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"powerdown\"}}\n", ct).ConfigureAwait(false); return true; },
            TimeSpan.FromSeconds(2),
            QmpErrorKind.ReplyTimeout,
            "could not send guest-shutdown to the guest agent within 2000 ms",
            cancellationToken);

    /// <summary>
    /// Completes with the failure when the agent reports one (an error reply, the channel closing, anything that is not
    /// valid QMP, or more than a few stray messages); never completes while the agent stays quiet, which is what
    /// success looks like. Never throws but OperationCanceledException for <paramref name="cancellationToken"/>.
    /// </summary>
    public async Task<QmpException> WatchForFailureAsync(CancellationToken cancellationToken)
    {
        try
        {
            for (var strays = 0; strays < MaxStraysAfterShutdown; strays++)
            {
                var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line is not { } received)
                {
                    return new QmpException(QmpErrorKind.Disconnected,
                        _reader.EndedMidLine ? "the guest agent channel closed in the middle of a message" : "the guest agent channel closed");
                }

                if (received.Oversized)
                {
                    return new QmpException(QmpErrorKind.ProtocolError,
                        $"the guest agent sent a line longer than {LineReader.DefaultMaxLineBytes} bytes after guest-shutdown: {ChannelText.Excerpt(received.Bytes.Span)}…");
                }

                // A late sync reply still carries its 0xFF delimiter.
                var bytes = received.Bytes;
                var sentinel = bytes.Span.LastIndexOf((byte)0xFF);
                if (sentinel >= 0)
                {
                    bytes = bytes[(sentinel + 1)..];
                }

                switch (bytes.IsEmpty ? null : QmpMessage.Parse(bytes))
                {
                    case QmpMessage.Error error:
                        return new QmpException(QmpErrorKind.CommandFailed, $"the guest agent refused guest-shutdown: {error.Class}: {error.Description}");
                    case QmpMessage.Unrecognised bad:
                        return new QmpException(bad.Kind, $"the guest agent sent {bad.What} after guest-shutdown: {bad.Excerpt}");
                    case IDisposable reply:
                        reply.Dispose(); // A late reply to an earlier command: harmless.
                        break;
                }
            }

            return new QmpException(QmpErrorKind.Flooded, $"the guest agent sent more than {MaxStraysAfterShutdown} unexpected messages after guest-shutdown");
        }
        catch (SocketException ex)
        {
            return new QmpException(QmpErrorKind.SocketError, $"the guest agent channel failed: {ex.Message}", ex);
        }
        catch (ObjectDisposedException ex)
        {
            return new QmpException(QmpErrorKind.Disconnected, "the guest agent channel was closed", ex);
        }
    }

    /// <summary>
    /// Reads up to our sync reply: everything before its 0xFF delimiter is stale and skipped (an oversized stale line
    /// too); what follows the delimiter must be {"return": token}, or a stale sync reply of an earlier client.
    /// </summary>
    private async Task<bool> ReadSyncReplyAsync(long token, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new QmpException(QmpErrorKind.Disconnected, _reader.EndedMidLine
                    ? "the guest agent channel closed in the middle of a message during guest-sync"
                    : "the guest agent channel closed during guest-sync");
            var sentinel = line.Bytes.Span.LastIndexOf((byte)0xFF);
            if (sentinel < 0)
            {
                continue;
            }

            if (line.Oversized)
            {
                throw new QmpException(QmpErrorKind.ProtocolError,
                    $"the guest agent answered guest-sync with a line longer than {LineReader.DefaultMaxLineBytes} bytes: {ChannelText.Excerpt(line.Bytes.Span)}…");
            }

            var message = QmpMessage.Parse(line.Bytes[(sentinel + 1)..]);
            switch (message)
            {
                case QmpMessage.Unrecognised bad:
                    throw new QmpException(bad.Kind, $"the guest agent answered guest-sync with {bad.What}: {bad.Excerpt}");
                case QmpMessage.Error error:
                    throw new QmpException(QmpErrorKind.CommandFailed, $"the guest agent refused guest-sync: {error.Class}: {error.Description}");
                case QmpMessage.Return reply:
                    using (reply)
                    {
                        var id = ChannelJson.AsInt64(reply.Value);
                        if (id == token)
                        {
                            return true;
                        }

                        if (id is null)
                        {
                            throw new QmpException(QmpErrorKind.MalformedMessage,
                                $"the guest agent answered guest-sync with a malformed reply (its return is {ChannelJson.Describe(reply.Value.ValueKind)}, not the integer Castra sent): {reply.Excerpt}");
                        }
                    }

                    break; // Another client's sync reply, left unread: stale.
                default:
                    throw new QmpException(QmpErrorKind.MalformedMessage, $"the guest agent answered guest-sync with a QMP {(message is QmpMessage.Event ? "event" : "greeting")}, which it never sends");
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task SendAsync(string json, CancellationToken cancellationToken)
    {
        var data = Encoding.UTF8.GetBytes(json).AsMemory();
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }
}

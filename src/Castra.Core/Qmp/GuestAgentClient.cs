using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Castra.Qmp;

/// <summary>
/// The QEMU guest agent's host-side socket (qga.sock). The agent speaks QMP-style JSON but has no greeting and
/// may hold stale replies from an earlier client, so liveness is proven with guest-sync-delimited: its reply is
/// preceded by a 0xFF byte, and everything before that byte is discarded. (The client sends no 0xFF of its own:
/// qemu-ga 7.2 answers one with a parse error.) guest-shutdown sends no reply on success: the proof is QEMU exiting.
/// </summary>
internal sealed class GuestAgentClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly LineReader _reader;

    private GuestAgentClient(Socket socket)
    {
        _socket = socket;
        _reader = new LineReader(socket);
    }

    /// <summary>Connects and proves a live agent answers, all within <paramref name="timeout"/>.</summary>
    /// <exception cref="QmpException">The agent is absent, not answering, or answered wrongly.</exception>
    public static async Task<GuestAgentClient> ConnectAndSyncAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Encoding.UTF8.GetByteCount(socketPath) > State.VmPaths.MaxSocketPathBytes)
        {
            throw new QmpException(QmpErrorKind.SocketPathTooLong, $"socket path {socketPath} exceeds the {State.VmPaths.MaxSocketPathBytes}-byte Unix socket limit");
        }

        if (!File.Exists(socketPath))
        {
            throw new QmpException(QmpErrorKind.SocketMissing, $"no guest agent socket at {socketPath}");
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var client = new GuestAgentClient(socket);
        try
        {
            var token = Random.Shared.Next(1, int.MaxValue);
            await SocketSteps.WithTimeout(
                async ct =>
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                    await client.SendAsync($"{{\"execute\":\"guest-sync-delimited\",\"arguments\":{{\"id\":{token.ToString(CultureInfo.InvariantCulture)}}}}}\n", ct).ConfigureAwait(false);
                    while (true)
                    {
                        var line = await client._reader.ReadLineAsync(ct).ConfigureAwait(false)
                            ?? throw new QmpException(QmpErrorKind.Disconnected, "the guest agent channel closed during guest-sync");
                        var sentinel = line.Span.LastIndexOf((byte)0xFF);
                        if (sentinel < 0)
                        {
                            continue; // Stale output from before our sync.
                        }

                        using var reply = JsonDocument.Parse(line[(sentinel + 1)..]);
                        if (reply.RootElement.TryGetProperty("return", out var value) && value.ValueKind == JsonValueKind.Number && value.GetInt64() == token)
                        {
                            return true;
                        }
                    }
                },
                timeout,
                QmpErrorKind.ReplyTimeout,
                $"the guest agent did not answer guest-sync within {timeout.TotalMilliseconds:0} ms (is qemu-ga running in the guest?)",
                cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch (JsonException ex)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw new QmpException(QmpErrorKind.ProtocolError, $"the guest agent answered guest-sync with something that is not JSON: {ex.Message}", ex);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task RequestShutdownAsync(CancellationToken cancellationToken) =>
        SocketSteps.WithTimeout(
            async ct => { await SendAsync("{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"powerdown\"}}\n", ct).ConfigureAwait(false); return true; },
            TimeSpan.FromSeconds(2),
            QmpErrorKind.ReplyTimeout,
            "could not send guest-shutdown to the guest agent within 2000 ms",
            cancellationToken);

    /// <summary>
    /// Completes with a description when the agent reports a failure (an error reply, or the channel closing);
    /// never completes while the agent stays quiet, which is what success looks like.
    /// </summary>
    public async Task<string> WatchForFailureAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line is null)
                {
                    return "the guest agent channel closed";
                }

                var text = Encoding.UTF8.GetString(line.Value.Span).TrimStart('\uFFFD');
                if (text.Contains("\"error\"", StringComparison.Ordinal))
                {
                    return $"the guest agent refused guest-shutdown: {QmpClient.Truncate(text)}";
                }
            }
        }
        catch (SocketException ex)
        {
            return $"the guest agent channel failed: {ex.Message}";
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

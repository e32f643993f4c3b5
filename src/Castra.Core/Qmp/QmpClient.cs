using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Castra.Qmp;

/// <summary>
/// A minimal QMP client over a Unix socket. Hand-written because no maintained .NET QMP client exists; the
/// protocol is one JSON object per line, so System.Text.Json does the parsing and this class only sequences the
/// handshake (greeting, qmp_capabilities) and commands, each step under its own timeout. After the handshake one
/// reader task owns the socket: it hands replies to their commands by id and keeps asynchronous events
/// (POWERDOWN, SHUTDOWN, STOP, …) in <see cref="Events"/>, so commands can be re-sent while events are awaited.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly LineReader _reader;
    private readonly List<QmpEvent> _events = [];
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonDocument>> _pending = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _nextId;

    private QmpClient(Socket socket, string socketPath)
    {
        _socket = socket;
        _reader = new LineReader(socket);
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>Events received so far, in arrival order.</summary>
    public IReadOnlyList<QmpEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Completes when QEMU closes the connection (it exits) or the connection fails.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Connects, reads the greeting and negotiates capabilities.</summary>
    /// <exception cref="QmpException">Any failure, classified by <see cref="QmpException.Kind"/>.</exception>
    public static async Task<QmpClient> ConnectAsync(string socketPath, QmpTimeouts timeouts, CancellationToken cancellationToken)
    {
        if (Encoding.UTF8.GetByteCount(socketPath) > State.VmPaths.MaxSocketPathBytes)
        {
            throw new QmpException(QmpErrorKind.SocketPathTooLong, $"socket path {socketPath} exceeds the {State.VmPaths.MaxSocketPathBytes}-byte Unix socket limit");
        }

        if (!File.Exists(socketPath))
        {
            throw new QmpException(QmpErrorKind.SocketMissing, $"no socket at {socketPath}");
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var client = new QmpClient(socket, socketPath);
        try
        {
            await SocketSteps.WithTimeout(
                async ct => { await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false); return true; },
                timeouts.Connect,
                QmpErrorKind.ConnectTimeout,
                $"connecting to {socketPath} did not complete within {timeouts.Connect.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);

            using (var greeting = await SocketSteps.WithTimeout(
                ct => client.ReadMessageAsync(ct, greeting: true),
                timeouts.Greeting,
                QmpErrorKind.GreetingTimeout,
                $"connected to {socketPath} but no QMP greeting arrived within {timeouts.Greeting.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false))
            {
                if (greeting.RootElement.ValueKind != JsonValueKind.Object || !greeting.RootElement.TryGetProperty("QMP", out _))
                {
                    throw new QmpException(QmpErrorKind.NotQmp, $"{socketPath} answered with something that is not a QMP greeting: {Truncate(greeting.RootElement.GetRawText())}");
                }
            }

            // QEMU sends no events before capabilities are negotiated, so the reply can be read in place.
            await SocketSteps.WithTimeout(
                async ct =>
                {
                    await client.SendAsync(Request("qmp_capabilities", "castra-0"), ct).ConfigureAwait(false);
                    using var reply = await client.ReadMessageAsync(ct).ConfigureAwait(false);
                    ThrowIfError(reply.RootElement, "qmp_capabilities");
                    return true;
                },
                timeouts.Reply,
                QmpErrorKind.ReplyTimeout,
                $"QEMU did not answer qmp_capabilities within {timeouts.Reply.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);

            _ = Task.Run(client.PumpAsync, CancellationToken.None);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends a command and returns its reply document (the caller disposes it).</summary>
    /// <exception cref="QmpException">ReplyTimeout, CommandFailed, Disconnected.</exception>
    public async Task<JsonDocument> ExecuteAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = $"castra-{Interlocked.Increment(ref _nextId)}";
        var reply = new TaskCompletionSource<JsonDocument>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            if (_closed.Task.IsCompleted)
            {
                throw new QmpException(QmpErrorKind.Disconnected, $"the QMP connection to {SocketPath} is closed");
            }

            var document = await SocketSteps.WithTimeout(
                async ct =>
                {
                    await SendAsync(Request(command, id), ct).ConfigureAwait(false);
                    return await reply.Task.WaitAsync(ct).ConfigureAwait(false);
                },
                timeout,
                QmpErrorKind.ReplyTimeout,
                $"QEMU did not answer {command} within {timeout.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);
            try
            {
                ThrowIfError(document.RootElement, command);
            }
            catch
            {
                document.Dispose();
                throw;
            }

            return document;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>The <c>status</c> of query-status: running, paused, shutdown, inmigrate, …</summary>
    public async Task<string> QueryStatusAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var reply = await ExecuteAsync("query-status", timeout, cancellationToken).ConfigureAwait(false);
        return reply.RootElement.TryGetProperty("return", out var result) && result.TryGetProperty("status", out var status)
            ? status.GetString() ?? "unknown"
            : "unknown";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        _closed.TrySetResult();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private async Task PumpAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(_stop.Token).ConfigureAwait(false);
                if (line is null)
                {
                    break;
                }

                if (line.Value.Length == 0)
                {
                    continue;
                }

                JsonDocument message;
                try
                {
                    message = JsonDocument.Parse(line.Value);
                }
                catch (JsonException)
                {
                    continue; // A damaged line: skip it, keep serving the rest.
                }

                var root = message.RootElement;
                if (root.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    lock (_events)
                    {
                        _events.Add(new QmpEvent(name.GetString()!, root.TryGetProperty("data", out var data) ? data.Clone() : default, DateTimeOffset.UtcNow));
                    }

                    message.Dispose();
                }
                else if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && _pending.TryRemove(id.GetString()!, out var waiter))
                {
                    waiter.TrySetResult(message);
                }
                else
                {
                    message.Dispose();
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or QmpException)
        {
            failure = ex;
        }
        finally
        {
            foreach (var waiter in _pending.Values)
            {
                waiter.TrySetException(new QmpException(QmpErrorKind.Disconnected, $"QEMU closed the QMP connection on {SocketPath}", failure));
            }

            _closed.TrySetResult();
        }
    }

    private async Task SendAsync(byte[] data, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var remaining = data.AsMemory();
            while (!remaining.IsEmpty)
            {
                var sent = await _socket.SendAsync(remaining, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                remaining = remaining[sent..];
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task<JsonDocument> ReadMessageAsync(CancellationToken cancellationToken, bool greeting = false)
    {
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new QmpException(QmpErrorKind.Disconnected, $"QEMU closed the QMP connection on {SocketPath}");
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                return JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                var text = Truncate(Encoding.UTF8.GetString(line.Span));
                throw greeting
                    ? new QmpException(QmpErrorKind.NotQmp, $"{SocketPath} answered with something that is not a QMP greeting: {text}")
                    : new QmpException(QmpErrorKind.ProtocolError, $"{SocketPath} sent a line that is not JSON: {text}");
            }
        }
    }

    private static byte[] Request(string command, string id)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            writer.WriteString("id", id);
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void ThrowIfError(JsonElement root, string command)
    {
        if (root.TryGetProperty("error", out var error))
        {
            var description = error.TryGetProperty("desc", out var desc) ? desc.GetString() : error.GetRawText();
            var errorClass = error.TryGetProperty("class", out var cls) ? cls.GetString() : "Error";
            throw new QmpException(QmpErrorKind.CommandFailed, $"QEMU refused {command}: {errorClass}: {description}");
        }
    }

    internal static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "…";
}

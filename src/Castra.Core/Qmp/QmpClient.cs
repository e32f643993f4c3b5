using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Castra.Qmp;

/// <summary>
/// A minimal QMP client over a Unix socket. Hand-written because no maintained .NET QMP client exists; the
/// protocol is one JSON object per line, so System.Text.Json does the parsing and this class only sequences the
/// handshake (greeting, qmp_capabilities) and commands, each step with its own timeout. Events that arrive while
/// waiting for a reply are kept in <see cref="Events"/>.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly LineReader _reader;
    private readonly List<QmpEvent> _events = [];
    private int _nextId;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _reader = new LineReader(socket);
    }

    public string SocketPath { get; private init; } = "";

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
        var client = new QmpClient(socket) { SocketPath = socketPath };
        try
        {
            await WithTimeout(
                ct => socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct),
                timeouts.Connect,
                QmpErrorKind.ConnectTimeout,
                $"connecting to {socketPath} did not complete within {timeouts.Connect.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);

            var greeting = await WithTimeout(
                ct => client.ReadMessageAsync(ct, greeting: true),
                timeouts.Greeting,
                QmpErrorKind.GreetingTimeout,
                $"connected to {socketPath} but no QMP greeting arrived within {timeouts.Greeting.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);
            using (greeting)
            {
                if (greeting.RootElement.ValueKind != JsonValueKind.Object || !greeting.RootElement.TryGetProperty("QMP", out _))
                {
                    throw new QmpException(QmpErrorKind.NotQmp, $"{socketPath} answered with something that is not a QMP greeting: {Truncate(greeting.RootElement.GetRawText())}");
                }
            }

            using var capabilities = await client.ExecuteAsync("qmp_capabilities", timeouts.Reply, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends a command and returns its reply document (the caller disposes it).</summary>
    public async Task<JsonDocument> ExecuteAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = $"castra-{Interlocked.Increment(ref _nextId)}";
        var request = Encoding.UTF8.GetBytes(
            JsonSerializer.Serialize(new Dictionary<string, string> { ["execute"] = command, ["id"] = id }, QmpJsonContext.Default.DictionaryStringString) + "\n");

        return await WithTimeout(
            async ct =>
            {
                await SendAllAsync(request, ct).ConfigureAwait(false);
                while (true)
                {
                    var message = await ReadMessageAsync(ct).ConfigureAwait(false);
                    var root = message.RootElement;
                    if (root.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String)
                    {
                        lock (_events)
                        {
                            _events.Add(new QmpEvent(name.GetString()!, root.TryGetProperty("data", out var data) ? data.Clone() : default, DateTimeOffset.UtcNow));
                        }

                        message.Dispose();
                        continue;
                    }

                    if (!root.TryGetProperty("id", out var replyId) || replyId.ValueKind != JsonValueKind.String || replyId.GetString() != id)
                    {
                        message.Dispose();
                        continue;
                    }

                    if (root.TryGetProperty("error", out var error))
                    {
                        var description = error.TryGetProperty("desc", out var desc) ? desc.GetString() : error.GetRawText();
                        var errorClass = error.TryGetProperty("class", out var cls) ? cls.GetString() : "Error";
                        message.Dispose();
                        throw new QmpException(QmpErrorKind.CommandFailed, $"QEMU refused {command}: {errorClass}: {description}");
                    }

                    return message;
                }
            },
            timeout,
            QmpErrorKind.ReplyTimeout,
            $"QEMU did not answer {command} within {timeout.TotalMilliseconds:0} ms",
            cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
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

    /// <summary>Runs one step under its own timeout, translating socket failures into classified QMP errors.</summary>
    private static async Task<T> WithTimeout<T>(Func<CancellationToken, Task<T>> step, TimeSpan timeout, QmpErrorKind timeoutKind, string timeoutMessage, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await step(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new QmpException(timeoutKind, timeoutMessage);
        }
        catch (SocketException ex)
        {
            throw Classify(ex);
        }
    }

    private static Task<bool> WithTimeout(Func<CancellationToken, ValueTask> step, TimeSpan timeout, QmpErrorKind timeoutKind, string timeoutMessage, CancellationToken cancellationToken) =>
        WithTimeout<bool>(async ct => { await step(ct).ConfigureAwait(false); return true; }, timeout, timeoutKind, timeoutMessage, cancellationToken);

    private static QmpException Classify(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused or SocketError.ConnectionReset =>
            new QmpException(QmpErrorKind.ConnectionRefused, $"nothing is listening on the QMP socket ({ex.Message}): QEMU has exited or was killed", ex),
        SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported =>
            new QmpException(QmpErrorKind.SocketMissing, $"the QMP socket cannot be reached ({ex.Message})", ex),
        _ => new QmpException(QmpErrorKind.SocketError, $"QMP socket error: {ex.Message}", ex),
    };

    private static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "…";
}

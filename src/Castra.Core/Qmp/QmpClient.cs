using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Castra.Qmp;

/// <summary>
/// A minimal QMP client over a Unix socket. Hand-written because no maintained .NET QMP client exists; the protocol is
/// one JSON object per line, so System.Text.Json does the parsing (<see cref="QmpMessage"/>, total: it classifies any
/// byte sequence) and this class only sequences the handshake (greeting, qmp_capabilities) and commands, each step
/// under its own timeout. After the handshake one reader task owns the socket: it hands replies to their commands by
/// id and keeps the events the engine needs (<see cref="QmpEventLog"/>), so commands can be re-sent while events are
/// awaited.
/// <para>
/// The peer is not trusted (Castra runs as root; anything may serve qmp.sock). Memory is bounded (a line cap, a
/// bounded event log), CPU is bounded (a message budget per second), and the first message that is not valid QMP ends
/// the connection: QEMU never sends one, so nothing later on the connection can be relied on. Every failure is a
/// <see cref="QmpException"/> with a printable, single-line message; only the caller's own cancellation surfaces as
/// OperationCanceledException.
/// </para>
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    /// <summary>Empty or stray lines tolerated while waiting for the greeting or the qmp_capabilities reply.</summary>
    private const int MaxHandshakeStrays = 16;

    private const string CapabilitiesId = "castra-0";

    private readonly Socket _socket;
    private readonly LineReader _reader;
    private readonly QmpEventLog _events = new();
    private readonly MessageBudget _budget = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<QmpMessage>> _pending = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private volatile QmpException? _failure;
    private int _nextId;
    private int _disposed;

    private QmpClient(Socket socket, string socketPath)
    {
        _socket = socket;
        _reader = new LineReader(socket);
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>The last events received (at most 16), in arrival order: for diagnostics.</summary>
    public IReadOnlyList<QmpEvent> RecentEvents => _events.Recent;

    /// <summary>The last SHUTDOWN event, kept however many events follow it.</summary>
    public QmpEvent? LastShutdown => _events.LastShutdown;

    /// <summary>Completes when QEMU closes the connection (it exits), the connection fails, or the peer breaks the protocol.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Connects, reads the greeting and negotiates capabilities.</summary>
    /// <exception cref="QmpException">Any failure, classified by <see cref="QmpException.Kind"/>.</exception>
    public static Task<QmpClient> ConnectAsync(string socketPath, QmpTimeouts timeouts, CancellationToken cancellationToken) =>
        ConnectAsync(ChannelTarget.Of(socketPath), timeouts, cancellationToken);

    /// <summary>Connects to <paramref name="target"/>, proves its peer (when it says how), reads the greeting and negotiates capabilities.</summary>
    /// <exception cref="QmpException">Any failure, classified by <see cref="QmpException.Kind"/>.</exception>
    public static async Task<QmpClient> ConnectAsync(ChannelTarget target, QmpTimeouts timeouts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(timeouts);
        var (connectPath, socketPath) = (target.ConnectPath, target.DisplayPath);
        if (Encoding.UTF8.GetByteCount(connectPath) > State.VmPaths.MaxSocketPathBytes)
        {
            throw new QmpException(QmpErrorKind.SocketPathTooLong, $"socket path {socketPath} exceeds the {State.VmPaths.MaxSocketPathBytes}-byte Unix socket limit");
        }

        if (!File.Exists(connectPath))
        {
            throw new QmpException(QmpErrorKind.SocketMissing, $"no socket at {socketPath}");
        }

        var socket = SocketSteps.NewUnixSocket();
        var client = new QmpClient(socket, socketPath);
        try
        {
            await SocketSteps.WithTimeout(
                async ct =>
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(connectPath), ct).ConfigureAwait(false);
                    target.Verify(socket);
                    return true;
                },
                timeouts.Connect,
                QmpErrorKind.ConnectTimeout,
                $"connecting to {socketPath} did not complete within {timeouts.Connect.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);

            await SocketSteps.WithTimeout(
                client.ReadGreetingAsync,
                timeouts.Greeting,
                QmpErrorKind.GreetingTimeout,
                $"connected to {socketPath} but no QMP greeting arrived within {timeouts.Greeting.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);

            // QEMU sends no events before capabilities are negotiated, so the reply can be read in place.
            await SocketSteps.WithTimeout(
                async ct =>
                {
                    await client.SendAsync(Request("qmp_capabilities", CapabilitiesId), ct).ConfigureAwait(false);
                    return await client.ReadCapabilitiesReplyAsync(ct).ConfigureAwait(false);
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

    /// <summary>Sends a command and returns its reply, whose <see cref="QmpReply.Return"/> is an object (the caller disposes it).</summary>
    /// <exception cref="QmpException">ReplyTimeout, CommandFailed, MalformedMessage, Disconnected, or the protocol failure that closed the connection.</exception>
    public Task<QmpReply> ExecuteAsync(string command, TimeSpan timeout, CancellationToken cancellationToken) =>
        ExecuteAsync(command, null, timeout, cancellationToken);

    /// <summary>Sends a command whose reply only matters for being a success (an empty object, e.g. stop, cont, quit).</summary>
    /// <exception cref="QmpException">As <see cref="ExecuteAsync(string, TimeSpan, CancellationToken)"/>.</exception>
    public async Task RunAsync(string command, Action<Utf8JsonWriter>? arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var reply = await ExecuteAsync(command, arguments, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a command with its <c>arguments</c> object (written by <paramref name="arguments"/>) and returns its reply.</summary>
    /// <exception cref="QmpException">As <see cref="ExecuteAsync(string, TimeSpan, CancellationToken)"/>.</exception>
    public Task<QmpReply> ExecuteAsync(string command, Action<Utf8JsonWriter>? arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        ExecuteCoreAsync(command, arguments, null, timeout, cancellationToken);

    /// <summary>
    /// Hands <paramref name="fd"/> to QEMU under <paramref name="fdName"/> (QMP <c>getfd</c>, the descriptor attached
    /// to the command's bytes with SCM_RIGHTS): a later command names it, e.g. <c>migrate</c> with <c>fd:NAME</c>.
    /// QEMU gets its own copy; the caller keeps and closes its own.
    /// </summary>
    /// <exception cref="QmpException">As <see cref="ExecuteAsync(string, TimeSpan, CancellationToken)"/>; SocketError when the descriptor could not be sent.</exception>
    public async Task PassFdAsync(string fdName, System.Runtime.InteropServices.SafeHandle fd, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fd);
        using var reply = await ExecuteCoreAsync("getfd", w => w.WriteString("fdname", fdName), fd, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes when the next event named <paramref name="name"/> arrives (or the connection ends): register before
    /// asking for the state the event announces a change of, so a change between the two is never missed.
    /// </summary>
    public Task NextEvent(string name) => _events.Next(name, _closed.Task);

    private async Task<QmpReply> ExecuteCoreAsync(string command, Action<Utf8JsonWriter>? arguments, System.Runtime.InteropServices.SafeHandle? fd, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = $"castra-{Interlocked.Increment(ref _nextId)}";
        var waiter = new TaskCompletionSource<QmpMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = waiter;
        var received = false;
        try
        {
            // After registering: the reader marks the connection closed before it fails the waiters it can see.
            ThrowIfClosed();
            var message = await SocketSteps.WithTimeout(
                async ct =>
                {
                    await SendAsync(Request(command, id, arguments), fd, ct).ConfigureAwait(false);
                    return await waiter.Task.WaitAsync(ct).ConfigureAwait(false);
                },
                timeout,
                QmpErrorKind.ReplyTimeout,
                $"QEMU did not answer {command} within {timeout.TotalMilliseconds:0} ms",
                cancellationToken).ConfigureAwait(false);
            received = true;
            return ToReply(command, message);
        }
        finally
        {
            _pending.TryRemove(id, out _);

            // A reply that arrived just as the wait gave up is nobody's: release its document.
            if (!received && !waiter.TrySetCanceled(CancellationToken.None) && waiter.Task.IsCompletedSuccessfully && waiter.Task.Result is IDisposable late)
            {
                late.Dispose();
            }
        }
    }

    /// <summary>The <c>status</c> of query-status: running, paused, shutdown, inmigrate, …</summary>
    /// <exception cref="QmpException">As <see cref="ExecuteAsync"/>; MalformedMessage when the reply holds no run state.</exception>
    public async Task<string> QueryStatusAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var reply = await ExecuteAsync("query-status", timeout, cancellationToken).ConfigureAwait(false);
        ChannelJson.TryGetMember(reply.Return, "status", out var status);
        var text = ChannelJson.AsString(status);
        if (text is null)
        {
            throw MalformedReply("query-status", $"its status is {ChannelJson.Describe(status.ValueKind)}, not a string", reply.Excerpt);
        }

        // The status is shown to users ("guest is <status>"): accept only what a QAPI enum value can look like.
        if (!IsRunStateName(text))
        {
            throw MalformedReply("query-status", "its status is not a QEMU run state name", reply.Excerpt);
        }

        return text;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        _closed.TrySetResult();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private async Task<bool> ReadGreetingAsync(CancellationToken cancellationToken)
    {
        for (var strays = 0; strays <= MaxHandshakeStrays; strays++)
        {
            var line = await ReadHandshakeLineAsync("before its greeting", cancellationToken).ConfigureAwait(false);
            if (line.Bytes.IsEmpty)
            {
                continue;
            }

            var excerpt = ChannelText.Excerpt(line.Bytes.Span);
            if (line.Oversized)
            {
                throw new QmpException(QmpErrorKind.NotQmp, $"{SocketPath} answered with something that is not a QMP greeting (a line longer than {LineReader.DefaultMaxLineBytes} bytes): {excerpt}…");
            }

            var message = QmpMessage.Parse(line.Bytes);
            (message as IDisposable)?.Dispose();
            return message is QmpMessage.Greeting
                ? true
                : throw new QmpException(QmpErrorKind.NotQmp, $"{SocketPath} answered with something that is not a QMP greeting: {excerpt}");
        }

        throw new QmpException(QmpErrorKind.NotQmp, $"{SocketPath} answered with empty lines instead of a QMP greeting");
    }

    private async Task<bool> ReadCapabilitiesReplyAsync(CancellationToken cancellationToken)
    {
        for (var strays = 0; strays <= MaxHandshakeStrays; strays++)
        {
            var line = await ReadHandshakeLineAsync("before answering qmp_capabilities", cancellationToken).ConfigureAwait(false);
            if (line.Oversized)
            {
                throw LineTooLong(line);
            }

            if (line.Bytes.IsEmpty)
            {
                continue;
            }

            switch (QmpMessage.Parse(line.Bytes))
            {
                case QmpMessage.Unrecognised bad:
                    throw new QmpException(bad.Kind, Sent(bad));
                case QmpMessage.Error { Id: CapabilitiesId } error:
                    throw Refused("qmp_capabilities", error);
                case QmpMessage.Return { Id: CapabilitiesId } reply:
                    using (reply)
                    {
                        return reply.Value.ValueKind == JsonValueKind.Object
                            ? true
                            : throw MalformedReply("qmp_capabilities", $"its return is {ChannelJson.Describe(reply.Value.ValueKind)}, not an object", reply.Excerpt);
                    }

                case IDisposable other:
                    other.Dispose(); // A reply to a command never sent: ignored, like events and greetings.
                    break;
            }
        }

        throw new QmpException(QmpErrorKind.Flooded, $"{SocketPath} sent more than {MaxHandshakeStrays} other messages before answering qmp_capabilities");
    }

    private async Task<ChannelLine> ReadHandshakeLineAsync(string when, CancellationToken cancellationToken) =>
        await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) ?? throw ClosedByPeer(when);

    /// <summary>The reader: owns the socket's receive side after the handshake, until the connection ends.</summary>
    private async Task PumpAsync()
    {
        QmpException? failure = null;
        try
        {
            while (failure is null)
            {
                var line = await _reader.ReadLineAsync(_stop.Token).ConfigureAwait(false);
                failure = line is { } received ? Dispatch(received) : ClosedByPeer(null);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            failure = new QmpException(QmpErrorKind.Disconnected, $"the QMP connection to {SocketPath} was closed by Castra");
        }
        catch (SocketException ex)
        {
            failure = SocketSteps.Classify(ex);
        }
        finally
        {
            // Whatever ended the reader, every waiting command learns it as a QmpException.
            Fail(failure ?? new QmpException(QmpErrorKind.ProtocolError, $"reading the QMP connection to {SocketPath} failed"));
        }
    }

    /// <summary>Handles one line; a non-null result ends the connection.</summary>
    private QmpException? Dispatch(ChannelLine line)
    {
        if (!_budget.TryTake())
        {
            return new QmpException(QmpErrorKind.Flooded, $"{SocketPath} sent more than {_budget.PerSecond} messages within one second");
        }

        if (line.Oversized)
        {
            return LineTooLong(line);
        }

        if (line.Bytes.IsEmpty)
        {
            return null;
        }

        switch (QmpMessage.Parse(line.Bytes))
        {
            case QmpMessage.Event evt:
                _events.Add(new QmpEvent(evt.Name, evt.Data, DateTime.UtcNow));
                return null;
            case QmpMessage.Return reply:
                Deliver(reply.Id, reply);
                return null;
            case QmpMessage.Error error:
                Deliver(error.Id, error);
                return null;
            case QmpMessage.Unrecognised bad:
                return new QmpException(bad.Kind, Sent(bad));
            default:
                return null; // A second greeting: harmless.
        }
    }

    /// <summary>Hands a reply to the command with that id; a reply nobody waits for (unknown id, no id) is dropped.</summary>
    private void Deliver(string? id, QmpMessage message)
    {
        if (id is not null && _pending.TryRemove(id, out var waiter) && waiter.TrySetResult(message))
        {
            return;
        }

        (message as IDisposable)?.Dispose();
    }

    private void Fail(QmpException failure)
    {
        _failure ??= failure;
        _closed.TrySetResult();
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var waiter))
            {
                waiter.TrySetException(Copy(_failure));
            }
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed.Task.IsCompleted)
        {
            throw Copy(_failure ?? new QmpException(QmpErrorKind.Disconnected, $"the QMP connection to {SocketPath} is closed"));
        }
    }

    private static QmpException Copy(QmpException failure) => new(failure.Kind, failure.Message, failure.InnerException);

    private Task SendAsync(byte[] data, CancellationToken cancellationToken) => SendAsync(data, null, cancellationToken);

    private async Task SendAsync(byte[] data, System.Runtime.InteropServices.SafeHandle? fd, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var remaining = data.AsMemory();
            if (fd is not null)
            {
                remaining = remaining[SendWithFd(data, fd)..];
            }

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

    /// <summary>
    /// The first bytes of a command with the descriptor attached (sendmsg; .NET sockets cannot carry SCM_RIGHTS). A
    /// command is a few dozen bytes on an idle socket, so a full send buffer (EAGAIN) is a failure, not a wait.
    /// </summary>
    private int SendWithFd(byte[] data, System.Runtime.InteropServices.SafeHandle fd)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var sent = Native.Libc.SendWithFd((int)_socket.Handle, data, (int)fd.DangerousGetHandle());
            return sent > 0
                ? (int)sent
                : throw new QmpException(QmpErrorKind.SocketError, $"could not pass a file descriptor over {SocketPath}: {Native.Libc.ErrorText(Native.Libc.LastError)}");
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    private static QmpReply ToReply(string command, QmpMessage message)
    {
        switch (message)
        {
            case QmpMessage.Return { Value.ValueKind: JsonValueKind.Object } reply:
                return new QmpReply(reply.Document, reply.Value, reply.Excerpt);
            case QmpMessage.Return reply:
                var kind = reply.Value.ValueKind;
                reply.Dispose();
                throw MalformedReply(command, $"its return is {ChannelJson.Describe(kind)}, not an object", reply.Excerpt);
            case QmpMessage.Error error:
                throw Refused(command, error);
            default:
                (message as IDisposable)?.Dispose();
                throw new QmpException(QmpErrorKind.MalformedMessage, $"QEMU answered {command} with an unexpected message");
        }
    }

    private string Sent(QmpMessage.Unrecognised bad) => $"{SocketPath} sent {bad.What}: {bad.Excerpt}";

    private QmpException LineTooLong(ChannelLine line) =>
        new(QmpErrorKind.ProtocolError, $"{SocketPath} sent a line longer than {LineReader.DefaultMaxLineBytes} bytes: {ChannelText.Excerpt(line.Bytes.Span)}…");

    private QmpException ClosedByPeer(string? when)
    {
        var where = _reader.EndedMidLine ? " in the middle of a message" : when is null ? string.Empty : $" {when}";
        return new QmpException(QmpErrorKind.Disconnected, $"QEMU closed the QMP connection on {SocketPath}{where}");
    }

    private static QmpException Refused(string command, QmpMessage.Error error) =>
        new(QmpErrorKind.CommandFailed, $"QEMU refused {command}: {error.Class}: {error.Description}");

    private static QmpException MalformedReply(string command, string why, string excerpt) =>
        new(QmpErrorKind.MalformedMessage, $"QEMU answered {command} with a malformed reply ({why}): {excerpt}");

    /// <summary>A QAPI enum value: lower-case letters, digits and dashes (running, paused, guest-panicked, …).</summary>
    private static bool IsRunStateName(string text) =>
        text.Length is > 0 and <= 32 && char.IsAsciiLetterLower(text[0]) && text.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    private static byte[] Request(string command, string id, Action<Utf8JsonWriter>? arguments = null)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            writer.WriteString("id", id);
            if (arguments is not null)
            {
                writer.WriteStartObject("arguments");
                arguments(writer);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}

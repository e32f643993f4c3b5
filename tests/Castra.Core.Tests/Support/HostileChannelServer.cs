using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Castra.Tests.Support;

/// <summary>
/// An in-process Unix-socket peer under test control, standing in for qmp.sock or qga.sock: every connection it
/// accepts runs a script (see <see cref="HostileScripts"/>) that may send anything at all. Scripts end quietly when
/// the client goes away or the server is disposed.
/// </summary>
public sealed class HostileChannelServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<HostileConnection, CancellationToken, Task> _script;
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;

    public HostileChannelServer(string path, Func<HostileConnection, CancellationToken, Task> script)
    {
        Path = path;
        _script = script;
        File.Delete(path);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(8);
        _accepting = Task.Run(AcceptAsync);
    }

    public string Path { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted
    {
        get
        {
            lock (_connections)
            {
                return _connections.Count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections, _accepting];
        }

        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
        File.Delete(Path);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                lock (_connections)
                {
                    _connections.Add(Task.Run(() => RunAsync(socket)));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task RunAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                await _script(new HostileConnection(socket), _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
            {
                // The client hung up, or the test is over.
            }
        }
    }
}

/// <summary>One accepted connection, as a script sees it.</summary>
public sealed class HostileConnection
{
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];

    public HostileConnection(Socket socket) => _socket = socket;

    /// <summary>
    /// Test payloads are written as C# strings whose characters are bytes (Latin-1): "\u00ff" is the byte 0xFF and
    /// "\u00c3\u0028" is invalid UTF-8. Plain ASCII JSON reads as itself.
    /// </summary>
    public static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public async Task SendAsync(byte[] data, CancellationToken cancellationToken)
    {
        var remaining = data.AsMemory();
        while (!remaining.IsEmpty)
        {
            var sent = await _socket.SendAsync(remaining, SocketFlags.None, cancellationToken);
            remaining = remaining[sent..];
        }
    }

    /// <summary>Sends <paramref name="latin1"/> (see <see cref="Bytes"/>) followed by '\n'.</summary>
    public Task SendLineAsync(string latin1, CancellationToken cancellationToken) => SendAsync(Bytes(latin1 + "\n"), cancellationToken);

    public void Close() => _socket.Shutdown(SocketShutdown.Both);

    /// <summary>The next request line from the client; null when it hung up.</summary>
    public async Task<HostileRequest?> ReadRequestAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var newline = _pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _pending.GetRange(0, newline).ToArray();
                _pending.RemoveRange(0, newline + 1);
                return HostileRequest.Parse(line);
            }

            var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return null;
            }

            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    /// <summary>Waits until the client hangs up (or the test ends), ignoring whatever it sends.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (await ReadRequestAsync(cancellationToken) is not null)
        {
        }
    }
}

/// <summary>A command the client sent: its name, its "id" as raw JSON (QMP copies it into the reply), and the guest-sync id.</summary>
public sealed record HostileRequest(string Command, string IdJson, long? SyncId)
{
    public static HostileRequest Parse(byte[] line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var command = root.GetProperty("execute").GetString()!;
        var id = root.TryGetProperty("id", out var idValue) ? idValue.GetRawText() : "null";
        long? sync = root.TryGetProperty("arguments", out var args) && args.TryGetProperty("id", out var syncId) ? syncId.GetInt64() : null;
        return new HostileRequest(command, id, sync);
    }

    /// <summary>
    /// <paramref name="template"/> with "$ID" replaced by this request's id (so a reply matches it) and "$SYNC" by the
    /// guest-sync id.
    /// </summary>
    public string Reply(string template) =>
        template.Replace("$ID", IdJson, StringComparison.Ordinal).Replace("$SYNC", SyncId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "0", StringComparison.Ordinal);
}

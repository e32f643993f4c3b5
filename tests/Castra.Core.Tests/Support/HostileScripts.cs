using System.Text;

namespace Castra.Tests.Support;

/// <summary>What a hostile peer does when a command arrives.</summary>
public delegate Task HostileResponder(HostileConnection connection, HostileRequest request, CancellationToken cancellationToken);

/// <summary>
/// Scripts for <see cref="HostileChannelServer"/>: a QMP monitor or guest agent that behaves like QEMU's except for
/// one command, whose answer is given by a <see cref="HostileResponder"/> (anything at all, see the factories below).
/// Payloads are Latin-1 strings (<see cref="HostileConnection.Bytes"/>), "$ID" is the request's id.
/// </summary>
public static class HostileScripts
{
    /// <summary>Debian's QEMU 7.2 greeting, as measured.</summary>
    public const string Greeting = """{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}""";

    /// <summary>Sends <paramref name="latin1"/> as soon as a client connects; then closes or holds the connection.</summary>
    public static Func<HostileConnection, CancellationToken, Task> Raw(string latin1, bool close = false) =>
        async (connection, ct) =>
        {
            await connection.SendAsync(HostileConnection.Bytes(latin1), ct);
            if (close)
            {
                connection.Close();
                return;
            }

            await connection.DrainAsync(ct);
        };

    /// <summary>A QMP monitor: <paramref name="greeting"/> (null: none at all), then QEMU's replies except for <paramref name="command"/>.</summary>
    public static Func<HostileConnection, CancellationToken, Task> QmpMonitor(string? command = null, HostileResponder? responder = null, string? greeting = Greeting) =>
        async (connection, ct) =>
        {
            if (greeting is null)
            {
                await connection.DrainAsync(ct);
                return;
            }

            await connection.SendLineAsync(greeting, ct);
            while (await connection.ReadRequestAsync(ct) is { } request)
            {
                await (request.Command == command && responder is not null ? responder : ProperQmp)(connection, request, ct);
            }
        };

    /// <summary>A guest agent: answers guest-sync-delimited properly unless <paramref name="sync"/> says otherwise; guest-shutdown gets no reply unless <paramref name="shutdown"/> says otherwise.</summary>
    /// <param name="ping">guest-ping's answer (default a proper <c>{"return": {}}</c>).</param>
    public static Func<HostileConnection, CancellationToken, Task> GuestAgent(HostileResponder? sync = null, HostileResponder? shutdown = null, HostileResponder? ping = null) =>
        async (connection, ct) =>
        {
            while (await connection.ReadRequestAsync(ct) is { } request)
            {
                var responder = request.Command switch
                {
                    "guest-sync-delimited" => sync ?? Send("\u00ff{\"return\": $SYNC}"),
                    "guest-shutdown" => shutdown ?? Silence,
                    "guest-ping" => ping ?? Send("{\"return\": {}}"),
                    _ => Send("""{"error": {"class": "CommandNotFound", "desc": "The command has not been found"}}"""),
                };
                await responder(connection, request, ct);
            }
        };

    /// <summary>Well-behaved QEMU: {} for qmp_capabilities, running for query-status, {} and POWERDOWN for system_powerdown.</summary>
    public static Task ProperQmp(HostileConnection connection, HostileRequest request, CancellationToken cancellationToken) => request.Command switch
    {
        "qmp_capabilities" => connection.SendLineAsync(request.Reply("""{"return": {}, "id": $ID}"""), cancellationToken),
        "query-status" => connection.SendLineAsync(request.Reply("""{"return": {"status": "running", "singlestep": false, "running": true}, "id": $ID}"""), cancellationToken),
        "system_powerdown" => connection.SendLineAsync(request.Reply("""{"return": {}, "id": $ID}""") + "\n" + PowerdownEvent, cancellationToken),
        _ => connection.SendLineAsync(request.Reply("""{"id": $ID, "error": {"class": "CommandNotFound", "desc": "The command has not been found"}}"""), cancellationToken),
    };

    public const string PowerdownEvent = """{"timestamp": {"seconds": 1700000000, "microseconds": 1}, "event": "POWERDOWN"}""";

    /// <summary>Sends the template ("$ID" filled in), with a line end unless <paramref name="newline"/> is false.</summary>
    public static HostileResponder Send(string template, bool newline = true) =>
        (connection, request, ct) => connection.SendAsync(HostileConnection.Bytes(request.Reply(template) + (newline ? "\n" : "")), ct);

    /// <summary>Sends the template without a line end, then hangs up: a peer that closes mid-line.</summary>
    public static HostileResponder SendThenClose(string template) =>
        async (connection, request, ct) =>
        {
            await connection.SendAsync(HostileConnection.Bytes(request.Reply(template)), ct);
            connection.Close();
        };

    /// <summary>No answer at all.</summary>
    public static Task Silence(HostileConnection connection, HostileRequest request, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A line that never ends: <paramref name="start"/>, then 'x' for as long as the client reads.</summary>
    public static HostileResponder EndlessLine(string start = "{\"return\": \"") =>
        async (connection, request, ct) =>
        {
            await connection.SendAsync(HostileConnection.Bytes(start), ct);
            var chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
            while (true)
            {
                await connection.SendAsync(chunk, ct);
            }
        };

    /// <summary>
    /// Valid events as fast as the socket takes them (about 100k/s here and more) until the client stops reading or
    /// <paramref name="duration"/> ends; then the template reply, if any.
    /// </summary>
    public static HostileResponder Flood(TimeSpan duration, string? thenReply = null) =>
        async (connection, request, ct) =>
        {
            var batch = HostileConnection.Bytes(string.Concat(Enumerable.Repeat("""{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE", "data": {"offset": 1}}""" + "\n", 1000)));
            using var until = CancellationTokenSource.CreateLinkedTokenSource(ct);
            until.CancelAfter(duration);
            try
            {
                while (true)
                {
                    await connection.SendAsync(batch, until.Token);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            if (thenReply is not null)
            {
                await connection.SendLineAsync(request.Reply(thenReply), ct);
            }
        };

    /// <summary>Runs several responders in turn.</summary>
    public static HostileResponder Then(params HostileResponder[] steps) =>
        async (connection, request, ct) =>
        {
            foreach (var step in steps)
            {
                await step(connection, request, ct);
            }
        };

    /// <summary>Waits, then nothing.</summary>
    public static HostileResponder Pause(TimeSpan delay) => (_, _, ct) => Task.Delay(delay, ct);

    /// <summary>JSON nested <paramref name="depth"/> arrays deep.</summary>
    public static string Nested(int depth) => new string('[', depth) + new string(']', depth);
}

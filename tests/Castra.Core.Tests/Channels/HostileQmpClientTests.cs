using System.Diagnostics;
using Castra.Qmp;
using Castra.Tests.Support;
using static Castra.Tests.Support.HostileScripts;

namespace Castra.Tests.Channels;

/// <summary>
/// QmpClient against a hostile peer on its socket: whatever it sends, the client ends with a classified QmpException
/// whose message names the problem and is one printable line, within the step's bound, and keeps bounded memory.
/// </summary>
public sealed class HostileQmpClientTests : IDisposable
{
    private static readonly QmpTimeouts Quick = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private string SocketPath => Path.Combine(_root.Path, "qmp.sock");

    private HostileChannelServer Serve(Func<HostileConnection, CancellationToken, Task> script) => new(SocketPath, script);

    /// <summary>Runs <paramref name="action"/> and returns its QmpException; any other exception fails the test.</summary>
    private static async Task<QmpException> FailsAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<QmpException>(action);
        Assert.True(watch.Elapsed < Bound, $"took {watch.Elapsed}");
        ChannelAssert.Printable(ex.Message);
        return ex;
    }

    public static TheoryData<string> BadGreetings() => new()
    {
        "[1,2]", "5", "\"x\"", "null", "1e400", "{}", """{"QMP": 5}""", """{"QMP": [1]}""", """{"return": 5}""", """{"error": 5}""",
        """{"error": {"desc": [1]}}""", """{"event": "SHUTDOWN"}""", "\u00ff[1,2]", "hello, this is not QMP", Nested(100),
        """{"QMP": {"version": "\ud800"}}""", "{\"QMP\": {\"x\": \"\u00c3\u0028\"}}",
    };

    [Theory]
    [MemberData(nameof(BadGreetings))]
    public async Task A_greeting_of_any_wrong_shape_is_not_qmp(string greeting)
    {
        await using var server = Serve(Raw(greeting + "\n"));

        var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None));

        Assert.Equal(QmpErrorKind.NotQmp, ex.Kind);
        Assert.Contains("not a QMP greeting", ex.Message);
    }

    [Fact]
    public async Task A_greeting_line_that_never_ends_is_cut_at_the_line_cap()
    {
        await using var server = Serve((c, ct) => EndlessLine("{\"QMP\": \"")(c, new HostileRequest("", "null", null), ct));

        var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None));

        Assert.Equal(QmpErrorKind.NotQmp, ex.Kind);
        Assert.Contains($"a line longer than {LineReader.DefaultMaxLineBytes} bytes", ex.Message);
    }

    [Fact]
    public async Task A_flood_of_replies_or_empty_lines_before_the_greeting_is_refused_at_once()
    {
        await using (var server = Serve(Raw(string.Concat(Enumerable.Repeat("{\"return\": {}}\n", 10_000)))))
        {
            var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None));
            Assert.Equal(QmpErrorKind.NotQmp, ex.Kind);
        }

        await using (var server = Serve(Raw(new string('\n', 10_000))))
        {
            var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None));
            Assert.Equal(QmpErrorKind.NotQmp, ex.Kind);
            Assert.Contains("empty lines", ex.Message);
        }
    }

    [Fact]
    public async Task No_greeting_and_greeting_then_silence_end_at_their_step_bounds()
    {
        var quick = new QmpTimeouts(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300));
        await using (var server = Serve(QmpMonitor(greeting: null)))
        {
            var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, quick, CancellationToken.None));
            Assert.Equal(QmpErrorKind.GreetingTimeout, ex.Kind);
        }

        await using (var server = Serve(QmpMonitor("qmp_capabilities", Silence)))
        {
            var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, quick, CancellationToken.None));
            Assert.Equal(QmpErrorKind.ReplyTimeout, ex.Kind);
            Assert.Contains("qmp_capabilities", ex.Message);
        }
    }

    public static TheoryData<string, QmpErrorKind, string> BadCapabilitiesReplies() => new()
    {
        { """{"return": 5, "id": $ID}""", QmpErrorKind.MalformedMessage, "answered qmp_capabilities with a malformed reply (its return is a number, not an object)" },
        { """{"return": [1, 2], "id": $ID}""", QmpErrorKind.MalformedMessage, "its return is a JSON array, not an object" },
        { """{"error": {"class": "GenericError", "desc": "no"}, "id": $ID}""", QmpErrorKind.CommandFailed, "QEMU refused qmp_capabilities: GenericError: no" },
        { """{"error": 5, "id": $ID}""", QmpErrorKind.MalformedMessage, "error member is a number, not an object" },
        { "[1,2]", QmpErrorKind.MalformedMessage, "a JSON array, not a JSON object" },
        { "1e400", QmpErrorKind.MalformedMessage, "a number, not a JSON object" },
        { "{\"return\": {}, \"id\": \"\u00c3\u0028\"}", QmpErrorKind.ProtocolError, "a line that is not valid UTF-8" },
        { Nested(100), QmpErrorKind.ProtocolError, "nested deeper than 32 levels" },
        { "{\"return\": {}", QmpErrorKind.ProtocolError, "a line that is not JSON" },
    };

    [Theory]
    [MemberData(nameof(BadCapabilitiesReplies))]
    public async Task A_bad_capabilities_reply_fails_the_handshake(string reply, QmpErrorKind kind, string fragment)
    {
        await using var server = Serve(QmpMonitor("qmp_capabilities", Send(reply)));

        var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None));

        Assert.Equal(kind, ex.Kind);
        Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public async Task Stray_replies_during_the_handshake_are_ignored_but_bounded()
    {
        // A few replies to commands never sent (and an event) are skipped; the handshake completes.
        await using (var server = Serve(QmpMonitor("qmp_capabilities", Send("""{"return": {}, "id": "castra-77"}""" + "\n" + PowerdownEvent + "\n" + """{"return": {}, "id": $ID}"""))))
        {
            await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);
            Assert.Equal("running", await client.QueryStatusAsync(TimeSpan.FromSeconds(2), CancellationToken.None));
        }

        // An endless stream of them is not.
        await using (var server = Serve(QmpMonitor("qmp_capabilities", Send(string.Join("\n", Enumerable.Repeat("""{"return": {}, "id": "castra-77"}""", 1000))))))
        {
            var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None));
            Assert.Equal(QmpErrorKind.Flooded, ex.Kind);
        }
    }

    public static TheoryData<string, string, QmpErrorKind, string> BadCommandReplies() => new()
    {
        // Not an object at all: the connection ends at once (QEMU never sends one).
        { "query-status", "[1,2]", QmpErrorKind.MalformedMessage, "sent a malformed message (a JSON array, not a JSON object): [1,2]" },
        { "query-status", "5", QmpErrorKind.MalformedMessage, "a number, not a JSON object" },
        { "query-status", "\"x\"", QmpErrorKind.MalformedMessage, "a string, not a JSON object" },
        { "query-status", "null", QmpErrorKind.MalformedMessage, "null, not a JSON object" },
        { "query-status", "1e400", QmpErrorKind.MalformedMessage, "a number, not a JSON object): 1e400" },

        // The reply to this very command, of the wrong type.
        { "query-status", """{"return": 5, "id": $ID}""", QmpErrorKind.MalformedMessage, "answered query-status with a malformed reply (its return is a number, not an object)" },
        { "query-status", """{"return": [1, 2], "id": $ID}""", QmpErrorKind.MalformedMessage, "its return is a JSON array, not an object" },
        { "query-status", """{"return": {"status": 5}, "id": $ID}""", QmpErrorKind.MalformedMessage, "its status is a number, not a string" },
        { "query-status", """{"return": {"status": 1e400}, "id": $ID}""", QmpErrorKind.MalformedMessage, "its status is a number, not a string" },
        { "query-status", """{"return": {}, "id": $ID}""", QmpErrorKind.MalformedMessage, "its status is missing, not a string" },
        { "query-status", """{"return": {"status": "running", "status": 5}, "id": $ID}""", QmpErrorKind.MalformedMessage, "its status is a number, not a string" },
        { "query-status", """{"return": {"status": "\u001b]0;owned\u0007running"}, "id": $ID}""", QmpErrorKind.MalformedMessage, "its status is not a QEMU run state name" },
        { "query-status", """{"return": {"status": "\ud800"}, "id": $ID}""", QmpErrorKind.ProtocolError, "JSON holding a string that is not valid Unicode" },
        { "query-status", "{\"return\": {\"status\": \"\u00c3\u0028\"}, \"id\": $ID}", QmpErrorKind.ProtocolError, "a line that is not valid UTF-8: {\"return\": {\"status\": \"\\xC3(\"}" },
        { "query-status", """{"error": 5, "id": $ID}""", QmpErrorKind.MalformedMessage, "an error reply whose error member is a number, not an object" },
        { "query-status", """{"error": {"desc": [1]}, "id": $ID}""", QmpErrorKind.MalformedMessage, "an error reply whose class is missing, not a string" },
        { "query-status", """{"error": {"class": "GenericError", "desc": [1]}, "id": $ID}""", QmpErrorKind.MalformedMessage, "an error reply whose desc is a JSON array, not a string" },
        { "query-status", """{"error": {"class": "GenericError", "desc": "one\ntwo \u001b[31mred\u202e"}, "id": $ID}""", QmpErrorKind.CommandFailed, "QEMU refused query-status: GenericError: one\\x0Atwo \\x1B[31mred\\u202E" },
        { "query-status", """{"return": {"status": "running"}, "error": {"class": "X", "desc": "y"}, "id": $ID}""", QmpErrorKind.MalformedMessage, "an object with both return and error" },
        { "query-status", """{"id": $ID}""", QmpErrorKind.MalformedMessage, "an object with none of QMP, return, error or event" },
        { "query-status", """{"event": 5}""", QmpErrorKind.MalformedMessage, "an event whose name is a number, not a string" },
        { "query-status", """{"event": "SHUTDOWN", "data": [1]}""", QmpErrorKind.MalformedMessage, "a SHUTDOWN event whose data is a JSON array, not an object" },
        { "query-status", """{"QMP": 5}""", QmpErrorKind.MalformedMessage, "a greeting whose QMP member is a number, not an object" },
        { "query-status", Nested(100), QmpErrorKind.ProtocolError, "JSON nested deeper than 32 levels" },
        { "query-status", "{\"return\": " + Nested(40) + ", \"id\": $ID}", QmpErrorKind.ProtocolError, "JSON nested deeper than 32 levels" },
        { "query-status", "\u00ff[1,2]", QmpErrorKind.ProtocolError, "a line that is not valid UTF-8: \\xFF[1,2]" },
        { "query-status", """{"return": {"status": "running"}, "id": $ID""", QmpErrorKind.ProtocolError, "a line that is not JSON" },
        { "query-status", """{"return": {"status": "running"}, "id": $ID} trailing""", QmpErrorKind.ProtocolError, "a line that is not JSON" },

        // system_powerdown: its return must be an object too.
        { "system_powerdown", """{"return": [1, 2], "id": $ID}""", QmpErrorKind.MalformedMessage, "answered system_powerdown with a malformed reply (its return is a JSON array, not an object)" },
        { "system_powerdown", """{"return": "ok", "id": $ID}""", QmpErrorKind.MalformedMessage, "its return is a string, not an object" },
        { "system_powerdown", """{"error": {"class": 5, "desc": "x"}, "id": $ID}""", QmpErrorKind.MalformedMessage, "an error reply whose class is a number, not a string" },
    };

    [Theory]
    [MemberData(nameof(BadCommandReplies))]
    public async Task A_bad_reply_to_a_command_is_a_classified_error_naming_the_problem(string command, string reply, QmpErrorKind kind, string fragment)
    {
        await using var server = Serve(QmpMonitor(command, Send(reply)));
        await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);

        var ex = await FailsAsync(() => command == "query-status"
            ? client.QueryStatusAsync(TimeSpan.FromSeconds(2), CancellationToken.None)
            : client.ExecuteAsync(command, TimeSpan.FromSeconds(2), CancellationToken.None));

        Assert.Equal(kind, ex.Kind);
        Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public async Task After_a_protocol_violation_every_later_command_fails_at_once_with_the_same_cause()
    {
        await using var server = Serve(QmpMonitor("query-status", Send("[1,2]")));
        await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);
        var first = await FailsAsync(() => client.QueryStatusAsync(TimeSpan.FromSeconds(2), CancellationToken.None));
        await client.Closed.WaitAsync(Bound);

        var watch = Stopwatch.StartNew();
        var second = await FailsAsync(() => client.ExecuteAsync("system_powerdown", TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Equal(first.Kind, second.Kind);
        Assert.Equal(first.Message, second.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "no wait for a reply on a dead connection");
    }

    [Fact]
    public async Task Replies_with_ids_never_sent_or_of_another_type_are_ignored()
    {
        await using var server = Serve(QmpMonitor("query-status", Send(
            """{"return": {"status": "paused"}, "id": "castra-999"}""" + "\n" +
            """{"return": {"status": "paused"}, "id": 1}""" + "\n" +
            """{"return": {"status": "paused"}, "id": ["castra-1"]}""" + "\n" +
            """{"return": {"status": "paused"}}""" + "\n" +
            """{"return": {"status": "running"}, "id": $ID}""")));
        await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);

        Assert.Equal("running", await client.QueryStatusAsync(TimeSpan.FromSeconds(2), CancellationToken.None));
    }

    [Fact]
    public async Task A_peer_closing_mid_line_is_a_disconnect_that_says_so()
    {
        await using (var server = Serve(QmpMonitor("qmp_capabilities", SendThenClose("""{"return": """))))
        {
            var ex = await FailsAsync(() => QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None));
            Assert.Equal(QmpErrorKind.Disconnected, ex.Kind);
            Assert.Contains("in the middle of a message", ex.Message);
        }

        await using (var server = Serve(QmpMonitor("query-status", SendThenClose("""{"return": {"status": "runn"""))))
        {
            await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);
            var ex = await FailsAsync(() => client.QueryStatusAsync(TimeSpan.FromSeconds(2), CancellationToken.None));
            Assert.Equal(QmpErrorKind.Disconnected, ex.Kind);
            Assert.Contains("in the middle of a message", ex.Message);
        }
    }

    [Fact]
    public async Task An_endless_reply_line_is_cut_at_the_line_cap_not_at_the_timeout()
    {
        await using var server = Serve(QmpMonitor("query-status", EndlessLine()));
        await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);

        var watch = Stopwatch.StartNew();
        var ex = await FailsAsync(() => client.QueryStatusAsync(TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Equal(QmpErrorKind.ProtocolError, ex.Kind);
        Assert.Contains($"sent a line longer than {LineReader.DefaultMaxLineBytes} bytes: {{\"return\": \"xxx", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task An_event_flood_ends_the_connection_with_bounded_retention()
    {
        // ~100k events/s for up to 5 s: the client stops at its per-second budget instead of parsing them all.
        await using var server = Serve(QmpMonitor("query-status", Flood(TimeSpan.FromSeconds(5), thenReply: """{"return": {"status": "running"}, "id": $ID}""")));
        await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);

        var ex = await FailsAsync(() => client.QueryStatusAsync(TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(QmpErrorKind.Flooded, ex.Kind);
        Assert.Contains($"more than {MessageBudget.DefaultPerSecond} messages within one second", ex.Message);
        Assert.True(client.Closed.IsCompleted);
        Assert.InRange(client.RecentEvents.Count, 1, QmpEventLog.Capacity);
        Assert.All(client.RecentEvents, e => Assert.Equal("RTC_CHANGE", e.Name));
    }

    [Fact]
    public async Task Events_below_the_budget_are_served_the_reply_still_arrives_and_only_the_last_few_are_kept()
    {
        // SHUTDOWN first, then 400 other events paced at 200/s (never above the budget, however late the reader
        // runs), then the reply: it arrives, only the last 16 events stay, and the SHUTDOWN is still known.
        var paced = Then(
            Send("""{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}"""),
            Then([.. Enumerable.Repeat(Then(Send(string.Join("\n", Enumerable.Repeat("""{"event": "RTC_CHANGE", "data": {"offset": 1}}""", 20))), Pause(TimeSpan.FromMilliseconds(100))), 20)]),
            Send("""{"return": {"status": "running"}, "id": $ID}"""));
        await using var server = Serve(QmpMonitor("query-status", paced));
        await using var client = await QmpClient.ConnectAsync(SocketPath, Quick, CancellationToken.None);

        Assert.Equal("running", await client.QueryStatusAsync(TimeSpan.FromSeconds(20), CancellationToken.None));

        Assert.Equal(QmpEventLog.Capacity, client.RecentEvents.Count);
        Assert.All(client.RecentEvents, e => Assert.Equal("RTC_CHANGE", e.Name));
        Assert.NotNull(client.LastShutdown);
        Assert.True(client.LastShutdown.Data.GetProperty("guest").GetBoolean());
    }

    [Fact]
    public async Task Random_bytes_as_a_reply_end_as_a_QmpException_only()
    {
        var random = new Random(20261201);
        var quick = Quick with { Reply = TimeSpan.FromMilliseconds(300) };
        for (var i = 0; i < 40; i++)
        {
            var junk = new byte[random.Next(1, 300)];
            random.NextBytes(junk);
            var text = System.Text.Encoding.Latin1.GetString(junk).Replace("$ID", "", StringComparison.Ordinal);
            await using var server = Serve(QmpMonitor("query-status", Send(text)));
            await using var client = await QmpClient.ConnectAsync(SocketPath, quick, CancellationToken.None);

            await FailsAsync(() => client.QueryStatusAsync(quick.Reply, CancellationToken.None));
        }
    }
}

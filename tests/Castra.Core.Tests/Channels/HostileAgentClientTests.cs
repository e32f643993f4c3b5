using System.Diagnostics;
using Castra.Qmp;
using Castra.Tests.Support;
using static Castra.Tests.Support.HostileScripts;

namespace Castra.Tests.Channels;

/// <summary>
/// GuestAgentClient against a hostile guest agent (the guest controls qga.sock entirely): the sync and the watch after
/// guest-shutdown end with a classified QmpException (or a returned one) naming the problem, in one printable line.
/// </summary>
public sealed class HostileAgentClientTests : IDisposable
{
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(2);
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private string SocketPath => Path.Combine(_root.Path, "qga.sock");

    private HostileChannelServer Serve(Func<HostileConnection, CancellationToken, Task> script) => new(SocketPath, script);

    public static TheoryData<string, QmpErrorKind, string> BadSyncReplies() => new()
    {
        { "\u00ff[1,2]", QmpErrorKind.MalformedMessage, "answered guest-sync with a malformed message (a JSON array, not a JSON object): [1,2]" },
        { "\u00ff5", QmpErrorKind.MalformedMessage, "a number, not a JSON object" },
        { "\u00ff\"x\"", QmpErrorKind.MalformedMessage, "a string, not a JSON object" },
        { "\u00ffnull", QmpErrorKind.MalformedMessage, "null, not a JSON object" },
        { "\u00ff1e400", QmpErrorKind.MalformedMessage, "a number, not a JSON object" },
        { "\u00ff{\"return\": 1e400}", QmpErrorKind.MalformedMessage, "its return is a number, not the integer Castra sent" },
        { "\u00ff{\"return\": 5.5}", QmpErrorKind.MalformedMessage, "its return is a number, not the integer Castra sent" },
        { "\u00ff{\"return\": \"x\"}", QmpErrorKind.MalformedMessage, "its return is a string, not the integer Castra sent" },
        { "\u00ff{\"return\": [1, 2]}", QmpErrorKind.MalformedMessage, "its return is a JSON array, not the integer Castra sent" },
        { "\u00ff{\"error\": 5}", QmpErrorKind.MalformedMessage, "an error reply whose error member is a number, not an object" },
        { "\u00ff{\"error\": {\"desc\": [1]}}", QmpErrorKind.MalformedMessage, "an error reply whose class is missing, not a string" },
        { "\u00ff{\"error\": {\"class\": \"GenericError\", \"desc\": \"frozen\"}}", QmpErrorKind.CommandFailed, "the guest agent refused guest-sync: GenericError: frozen" },
        { "\u00ff{\"event\": \"X\"}", QmpErrorKind.MalformedMessage, "a QMP event, which it never sends" },
        { "\u00ff{\"return\": \"\u00c3\u0028\"}", QmpErrorKind.ProtocolError, "a line that is not valid UTF-8: {\"return\": \"\\xC3(\"}" },
        { "\u00ff{\"return\": \"\\ud800\"}", QmpErrorKind.ProtocolError, "JSON holding a string that is not valid Unicode" },
        { "\u00ff" + Nested(100), QmpErrorKind.ProtocolError, "JSON nested deeper than 32 levels" },
        { "\u00ff\u00ff\u00ff", QmpErrorKind.ProtocolError, "a line that is not JSON" },
        { "\u00ff{\"return\": $SYNC", QmpErrorKind.ProtocolError, "a line that is not JSON" },
    };

    [Theory]
    [MemberData(nameof(BadSyncReplies))]
    public async Task A_bad_sync_reply_is_a_classified_error_naming_the_problem(string reply, QmpErrorKind kind, string fragment)
    {
        await using var server = Serve(GuestAgent(sync: Send(reply)));

        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<QmpException>(() => GuestAgentClient.ConnectAndSyncAsync(SocketPath, TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(kind, ex.Kind);
        Assert.Contains(fragment, ex.Message);
        ChannelAssert.Printable(ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), "named at once, not after the probe timeout");
    }

    [Fact]
    public async Task Stale_output_before_the_delimiter_is_skipped_even_oversized_or_malformed()
    {
        var stale = string.Join("\n",
            "[1,2]", "\u00c3\u0028 not even UTF-8", new string('x', 200_000), Nested(500),
            "\u00ff{\"return\": 12345}"); // An earlier client's sync reply: another id.
        await using var server = Serve(GuestAgent(sync: Send(stale + "\n\u00ff{\"return\": $SYNC}")));

        await using var agent = await GuestAgentClient.ConnectAndSyncAsync(SocketPath, Probe, CancellationToken.None);
    }

    [Fact]
    public async Task Endless_lines_end_at_the_probe_timeout_or_at_once_when_they_claim_to_be_the_reply()
    {
        await using (var server = Serve(GuestAgent(sync: EndlessLine("junk"))))
        {
            var ex = await Assert.ThrowsAsync<QmpException>(() => GuestAgentClient.ConnectAndSyncAsync(SocketPath, TimeSpan.FromMilliseconds(500), CancellationToken.None));
            Assert.Equal(QmpErrorKind.ReplyTimeout, ex.Kind);
        }

        await using (var server = Serve(GuestAgent(sync: EndlessLine("\u00ff{\"return\": \""))))
        {
            var ex = await Assert.ThrowsAsync<QmpException>(() => GuestAgentClient.ConnectAndSyncAsync(SocketPath, TimeSpan.FromSeconds(10), CancellationToken.None));
            Assert.Equal(QmpErrorKind.ProtocolError, ex.Kind);
            Assert.Contains($"a line longer than {LineReader.DefaultMaxLineBytes} bytes", ex.Message);
            ChannelAssert.Printable(ex.Message);
        }
    }

    [Fact]
    public async Task Random_bytes_after_the_delimiter_end_as_a_QmpException_only()
    {
        var random = new Random(20261203);
        for (var i = 0; i < 40; i++)
        {
            var junk = new byte[random.Next(1, 300)];
            random.NextBytes(junk);
            var reply = "\u00ff" + System.Text.Encoding.Latin1.GetString(junk).Replace("$", "", StringComparison.Ordinal);
            await using var server = Serve(GuestAgent(sync: Send(reply)));

            var ex = await Assert.ThrowsAsync<QmpException>(() => GuestAgentClient.ConnectAndSyncAsync(SocketPath, TimeSpan.FromMilliseconds(300), CancellationToken.None));
            ChannelAssert.Printable(ex.Message);
        }
    }

    [Fact]
    public async Task Closing_during_the_sync_is_a_disconnect()
    {
        await using var server = Serve(GuestAgent(sync: SendThenClose("\u00ff{\"return\": ")));

        var ex = await Assert.ThrowsAsync<QmpException>(() => GuestAgentClient.ConnectAndSyncAsync(SocketPath, Probe, CancellationToken.None));

        Assert.Equal(QmpErrorKind.Disconnected, ex.Kind);
        Assert.Contains("in the middle of a message", ex.Message);
    }

    public static TheoryData<string, QmpErrorKind, string> BadMessagesAfterShutdown() => new()
    {
        { "[1,2]", QmpErrorKind.MalformedMessage, "the guest agent sent a malformed message (a JSON array, not a JSON object) after guest-shutdown: [1,2]" },
        { "\u00ff[1,2]", QmpErrorKind.MalformedMessage, "a JSON array, not a JSON object" },
        { "{\"error\": {\"class\": \"GenericError\", \"desc\": \"child process has failed to shutdown\"}}", QmpErrorKind.CommandFailed, "the guest agent refused guest-shutdown: GenericError: child process has failed to shutdown" },
        { "{\"error\": {\"desc\": [1]}}", QmpErrorKind.MalformedMessage, "an error reply whose class is missing, not a string" },
        { "{\"error\": \"no\\u001b[2J\"}", QmpErrorKind.MalformedMessage, "an error reply whose error member is a string, not an object" },
        { "\u00c3\u0028", QmpErrorKind.ProtocolError, "a line that is not valid UTF-8 after guest-shutdown: \\xC3(" },
        { Nested(64), QmpErrorKind.ProtocolError, "JSON nested deeper than 32 levels" },
        { string.Join("\n", Enumerable.Repeat("{\"return\": {}}", 100)), QmpErrorKind.Flooded, "more than 16 unexpected messages after guest-shutdown" },
        { new string('x', 100_000), QmpErrorKind.ProtocolError, $"a line longer than {LineReader.DefaultMaxLineBytes} bytes after guest-shutdown: xxx" },
    };

    [Theory]
    [MemberData(nameof(BadMessagesAfterShutdown))]
    public async Task A_bad_message_after_guest_shutdown_is_reported_as_the_failure(string message, QmpErrorKind kind, string fragment)
    {
        await using var server = Serve(GuestAgent(shutdown: Send(message)));
        await using var agent = await GuestAgentClient.ConnectAndSyncAsync(SocketPath, Probe, CancellationToken.None);
        await agent.RequestShutdownAsync(CancellationToken.None);

        var failure = await agent.WatchForFailureAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(kind, failure.Kind);
        Assert.Contains(fragment, failure.Message);
        ChannelAssert.Printable(failure.Message);
    }

    [Fact]
    public async Task A_quiet_agent_is_watched_until_cancelled_and_a_closing_one_is_reported()
    {
        await using (var server = Serve(GuestAgent()))
        {
            await using var agent = await GuestAgentClient.ConnectAndSyncAsync(SocketPath, Probe, CancellationToken.None);
            await agent.RequestShutdownAsync(CancellationToken.None);
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => agent.WatchForFailureAsync(cts.Token));
        }

        await using (var server = Serve(GuestAgent(shutdown: SendThenClose("{\"ret"))))
        {
            await using var agent = await GuestAgentClient.ConnectAndSyncAsync(SocketPath, Probe, CancellationToken.None);
            await agent.RequestShutdownAsync(CancellationToken.None);
            var failure = await agent.WatchForFailureAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(QmpErrorKind.Disconnected, failure.Kind);
            Assert.Equal("the guest agent channel closed in the middle of a message", failure.Message);
        }
    }
}

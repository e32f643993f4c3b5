using System.Net.Sockets;
using System.Text;
using Castra.Qmp;
using Castra.Tests.Support;

namespace Castra.Tests.Channels;

/// <summary>
/// The parsing layer on its own: <see cref="QmpMessage.Parse"/> is total (any bytes classify, nothing throws, every
/// string it yields is printable), <see cref="ChannelText"/> makes peer text safe, <see cref="LineReader"/> stays
/// within its cap.
/// </summary>
public sealed class ChannelParsingTests
{
    /// <summary>Values of every JSON kind that have tripped System.Text.Json readers (1e400, lone surrogates, …).</summary>
    private static readonly string[] NastyValues =
    [
        "1e400", "-1e400", "5.5", "-0", "18446744073709551616", "0", "true", "null", "\"\"", "\"x\"", "\"\\ud800\"", "\"\\udc00x\"",
        "\"\\u0000\"", "\"\\u001b[2J\\u202e\\n\"", "[]", "[1,2]", "{}", "{\"guest\":1e400}", "{\"\\ud800\":1}", "{\"status\":5}",
        "{\"class\":[1],\"desc\":{}}", "{\"a\":1,\"a\":\"b\"}", new string('[', 31) + new string(']', 31), new string('[', 33) + new string(']', 33),
    ];

    private static readonly string[] Templates =
    [
        "V", "{\"QMP\":V}", "{\"return\":V}", "{\"return\":V,\"id\":V}", "{\"error\":V,\"id\":\"castra-1\"}",
        "{\"error\":{\"class\":V,\"desc\":V}}", "{\"event\":V}", "{\"event\":\"SHUTDOWN\",\"data\":V}", "{\"event\":V,\"data\":V}",
        "{\"return\":{\"status\":V}}", "{\"return\":V,\"error\":V}", "{\"id\":V}", "\u00ffV",
    ];

    [Fact]
    public void Every_template_with_every_nasty_value_classifies_without_throwing()
    {
        foreach (var template in Templates)
        {
            foreach (var value in NastyValues)
            {
                AssertTotal(Encoding.Latin1.GetBytes(template.Replace("V", value, StringComparison.Ordinal)));
            }
        }
    }

    [Fact]
    public void Random_bytes_classify_without_throwing()
    {
        var random = new Random(20261202);
        var alphabet = Encoding.Latin1.GetBytes("{}[]\":,0123456789eE+-.\\utrunlfasQMPidvxcl \u00ff\u00c3\u0080\u00ed\u00a0");
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 80)];
            for (var j = 0; j < bytes.Length; j++)
            {
                bytes[j] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }

            AssertTotal(bytes);
        }
    }

    [Fact]
    public void Lines_measured_from_qemu_7_2_classify_as_qemu_meant_them()
    {
        Assert.IsType<QmpMessage.Greeting>(QmpMessage.Parse(Encoding.UTF8.GetBytes(HostileScripts.Greeting)));
        using (var status = Assert.IsType<QmpMessage.Return>(QmpMessage.Parse(Encoding.UTF8.GetBytes("""{"return": {"status": "prelaunch", "singlestep": false, "running": false}, "id": "castra-1"}"""))))
        {
            Assert.Equal("castra-1", status.Id);
            Assert.True(ChannelJson.TryGetMember(status.Value, "status", out var value));
            Assert.Equal("prelaunch", ChannelJson.AsString(value));
        }

        var shutdown = Assert.IsType<QmpMessage.Event>(QmpMessage.Parse(Encoding.UTF8.GetBytes("""{"timestamp": {"seconds": 1796005332, "microseconds": 915097}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}""")));
        Assert.Equal("SHUTDOWN", shutdown.Name);
        Assert.True(ChannelJson.TryGetMember(shutdown.Data, "guest", out var guest));
        Assert.False(ChannelJson.AsBoolean(guest));
        Assert.Equal("POWERDOWN", Assert.IsType<QmpMessage.Event>(QmpMessage.Parse(Encoding.UTF8.GetBytes(HostileScripts.PowerdownEvent))).Name);
        using var quit = Assert.IsType<QmpMessage.Return>(QmpMessage.Parse(Encoding.UTF8.GetBytes("""{"return": {}}""")));
        Assert.Null(quit.Id);
    }

    [Fact]
    public void Shapes_are_recognised_and_odd_members_tolerated_or_named()
    {
        Assert.IsType<QmpMessage.Greeting>(QmpMessage.Parse(Encoding.UTF8.GetBytes(HostileScripts.Greeting)));

        var evt = Assert.IsType<QmpMessage.Event>(QmpMessage.Parse(Encoding.UTF8.GetBytes("""{"event": "SHUTDOWN", "data": {"guest": "yes"}, "timestamp": 5}""")));
        Assert.Equal("SHUTDOWN", evt.Name);
        Assert.True(ChannelJson.TryGetMember(evt.Data, "guest", out var guest));
        Assert.Null(ChannelJson.AsBoolean(guest)); // A mistyped flag reads as unknown, not as an exception.

        using (var reply = Assert.IsType<QmpMessage.Return>(QmpMessage.Parse(Encoding.UTF8.GetBytes("""{"return": {}, "id": 7}"""))))
        {
            Assert.Null(reply.Id); // Castra's ids are strings: a numeric id matches nothing.
        }

        var error = Assert.IsType<QmpMessage.Error>(QmpMessage.Parse(Encoding.UTF8.GetBytes("""{"error": {"class": "GenericError", "desc": "a\u0007b"}, "id": "castra-3"}""")));
        Assert.Equal(("castra-3", "GenericError", "a\\x07b"), (error.Id, error.Class, error.Description));

        var bad = Assert.IsType<QmpMessage.Unrecognised>(QmpMessage.Parse(Encoding.UTF8.GetBytes("""{"return": {}, "event": "X"}""")));
        Assert.Equal(QmpErrorKind.MalformedMessage, bad.Kind);
        Assert.Equal("an object with both event and return", bad.Why);
    }

    [Theory]
    [InlineData("plain text", 120, "plain text")]
    [InlineData("line\nbreak\r\ttab\u0000nul\u007fdel\u0085nel", 120, "line\\x0Abreak\\x0D\\x09tab\\x00nul\\x7Fdel\\x85nel")]
    [InlineData("\u001b]0;title\u0007\u001b[2J", 120, "\\x1B]0;title\\x07\\x1B[2J")]
    [InlineData("bidi \u202e and \u2028 \u2029 zw\u200b", 120, "bidi \\u202E and \\u2028 \\u2029 zw\\u200B")]
    [InlineData("emoji \U0001F600 kept", 120, "emoji \U0001F600 kept")]
    [InlineData("abcdef", 3, "abc…")]
    [InlineData("ab\U0001F600", 3, "ab…")]
    [InlineData("ab\u0001", 4, "ab…")]
    public void Printable_escapes_what_a_terminal_would_act_on_and_cuts_cleanly(string input, int max, string expected)
    {
        var output = ChannelText.Printable(input, max);

        Assert.Equal(expected, output);
        ChannelAssert.Printable(output);
    }

    [Fact]
    public void Printable_replaces_unpaired_surrogates()
    {
        // Built here: an unpaired surrogate in an attribute would also reach the test runner's own protocol.
        var input = "lone " + (char)0xD800 + " high, lone " + (char)0xDC00 + " low";
        Assert.Equal("lone \uFFFD high, lone \uFFFD low", ChannelText.Printable(input));
    }

    [Fact]
    public void Excerpt_shows_invalid_utf8_bytes_as_hex()
    {
        Assert.Equal("ok \\xFF\\xC3( \u00e9", ChannelText.Excerpt([.. "ok "u8, 0xFF, 0xC3, (byte)'(', (byte)' ', 0xC3, 0xA9]));
        Assert.Equal("\\xF0\\x9F\\x98", ChannelText.Excerpt([0xF0, 0x9F, 0x98])); // A truncated sequence.
        Assert.Equal(new string('x', 120) + "…", ChannelText.Excerpt(Encoding.ASCII.GetBytes(new string('x', 1000))));
    }

    [Fact]
    public async Task The_line_reader_reports_an_oversized_line_once_skips_its_rest_and_reads_on()
    {
        var path = Path.Combine("/tmp", $"castra-lr-{Guid.NewGuid():N}"[..20] + ".sock");
        var huge = new string('y', 3 * LineReader.DefaultMaxLineBytes);
        await using var server = new HostileChannelServer(path, HostileScripts.Raw("first\r\n" + huge + "\nsecond\npartial", close: true));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var reader = new LineReader(socket);

        Assert.Equal("first", Encoding.ASCII.GetString((await reader.ReadLineAsync(CancellationToken.None))!.Value.Bytes.Span));
        var oversized = (await reader.ReadLineAsync(CancellationToken.None))!.Value;
        Assert.True(oversized.Oversized);
        Assert.InRange(oversized.Bytes.Length, 1, 256);
        Assert.Equal("second", Encoding.ASCII.GetString((await reader.ReadLineAsync(CancellationToken.None))!.Value.Bytes.Span));
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
        Assert.True(reader.EndedMidLine);
    }

    /// <summary>Parse does not throw, and whatever it yields can be read and printed without throwing either.</summary>
    private static void AssertTotal(byte[] line)
    {
        var message = QmpMessage.Parse(line);
        switch (message)
        {
            case QmpMessage.Return reply:
                using (reply)
                {
                    ChannelJson.TryGetMember(reply.Value, "status", out var status);
                    _ = ChannelJson.AsString(status);
                    _ = ChannelJson.AsInt64(reply.Value);
                    _ = reply.Value.GetRawText();
                    ChannelAssert.Printable(reply.Excerpt.Length == 0 ? "-" : reply.Excerpt);
                }

                break;
            case QmpMessage.Event evt:
                ChannelAssert.Printable(evt.Name);
                if (ChannelJson.TryGetMember(evt.Data, "guest", out var guest))
                {
                    _ = ChannelJson.AsBoolean(guest);
                }

                break;
            case QmpMessage.Error error:
                ChannelAssert.Printable(error.Class.Length == 0 ? "-" : error.Class);
                ChannelAssert.Printable(error.Description.Length == 0 ? "-" : error.Description);
                break;
            case QmpMessage.Unrecognised bad:
                ChannelAssert.Printable(bad.What);
                ChannelAssert.Printable(bad.Excerpt.Length == 0 ? "-" : bad.Excerpt);
                break;
            default:
                Assert.IsType<QmpMessage.Greeting>(message);
                break;
        }

    }
}

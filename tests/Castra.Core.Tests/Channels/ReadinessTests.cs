using System.Diagnostics;
using Castra.Errors;
using Castra.Launch;
using Castra.Qmp;
using Castra.State;
using Castra.Tests.Support;
using static Castra.Tests.Support.HostileScripts;

namespace Castra.Tests.Channels;

/// <summary>
/// Wait-CastraVm / castra wait against hostile input: a guest agent that answers guest-ping with garbage, a serial log
/// that is a FIFO or a link, a marker split between two reads. Whatever comes back is "not ready" with what was seen,
/// within the timeout, never an exception.
/// </summary>
public sealed class ReadinessTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private string AgentSide(string name)
    {
        var dir = Path.Combine(_root.Path, "guests");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name + ".sock");
    }

    public static TheoryData<string, QmpErrorKind, string> BadPingReplies() => new()
    {
        { "[1,2]", QmpErrorKind.MalformedMessage, "answered guest-ping with a malformed message (a JSON array, not a JSON object)" },
        { "{\"return\": 5}", QmpErrorKind.MalformedMessage, "its return is a number, not an object" },
        { "{\"error\": {\"class\": \"GenericError\", \"desc\": \"\\u001b[31mno\"}}", QmpErrorKind.CommandFailed, "refused guest-ping: GenericError: \\x1B[31mno" },
        { "{\"return\": \"\u00c3\u0028\"}", QmpErrorKind.ProtocolError, "not valid UTF-8" },
        { Nested(100), QmpErrorKind.ProtocolError, "nested deeper than 32 levels" },
    };

    [Theory]
    [MemberData(nameof(BadPingReplies))]
    public async Task A_bad_ping_reply_is_a_classified_error_naming_it(string reply, QmpErrorKind kind, string fragment)
    {
        var path = AgentSide("ping");
        await using var server = new HostileChannelServer(path, GuestAgent(ping: Send(reply)));
        await using var agent = await GuestAgentClient.ConnectAndSyncAsync(path, TimeSpan.FromSeconds(5), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<QmpException>(() => agent.PingAsync(TimeSpan.FromSeconds(5), CancellationToken.None));

        Assert.Equal(kind, ex.Kind);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        ChannelAssert.Printable(ex.Message);
    }

    [Fact]
    public async Task A_silent_ping_ends_at_its_timeout()
    {
        var path = AgentSide("silent");
        await using var server = new HostileChannelServer(path, GuestAgent(ping: Silence));
        await using var agent = await GuestAgentClient.ConnectAndSyncAsync(path, TimeSpan.FromSeconds(5), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<QmpException>(() => agent.PingAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));

        Assert.Equal(QmpErrorKind.ReplyTimeout, ex.Kind);
    }

    [Fact]
    public async Task A_vm_whose_agent_answers_ping_properly_is_ready_and_one_answering_garbage_is_not()
    {
        await using var good = new HostileChannelServer(AgentSide("good"), GuestAgent());
        await using var bad = new HostileChannelServer(AgentSide("bad"), GuestAgent(ping: Send("{\"return\": [\"\\u202e\"]}")));
        _root.Launch("good", "graceful", extraArgs: ["--fake-relay", $"{_root.Vm("good").AgentSocket}={good.Path}"]);
        _root.Launch("bad", "graceful", extraArgs: ["--fake-relay", $"{_root.Vm("bad").AgentSocket}={bad.Path}"]);
        await WaitForSocketAsync(_root.Vm("good").AgentSocket);
        await WaitForSocketAsync(_root.Vm("bad").AgentSocket);

        var watch = Stopwatch.StartNew();
        var results = await new ReadinessWaiter(_root.Root).WaitAsync(["good", "bad"], new ReadinessOptions { Timeout = TimeSpan.FromSeconds(1.5) });

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        var ready = results[0].Readiness!;
        Assert.True(ready.Ready, ready.Detail);
        Assert.Equal("QMP running, guest agent ping", ready.WaitedFor);
        Assert.Null(results[0].Error);

        var notReady = results[1].Readiness!;
        Assert.False(notReady.Ready);
        Assert.Contains("its return is a JSON array, not an object", notReady.Detail, StringComparison.Ordinal);
        ChannelAssert.Printable(notReady.Detail!);
        Assert.Equal(ErrorIds.VmNotReady, results[1].Error!.ErrorId);
        Assert.Equal(CastraErrorCategory.OperationTimeout, results[1].Error!.Category);
    }

    [Fact]
    public async Task A_stopped_vm_times_out_saying_qemu_is_not_running_and_an_unknown_one_is_not_found()
    {
        Directory.CreateDirectory(_root.Vm("stopped").Directory);

        var results = await new ReadinessWaiter(_root.Root).WaitAsync(["stopped", "nosuch"], new ReadinessOptions { Timeout = TimeSpan.FromMilliseconds(400) });

        Assert.False(results[0].Readiness!.Ready);
        Assert.Equal("QEMU is not running", results[0].Readiness!.Detail);
        Assert.Equal(ErrorIds.VmNotReady, results[0].Error!.ErrorId);
        Assert.Null(results[1].Readiness);
        Assert.Equal(ErrorIds.VmNotFound, results[1].Error!.ErrorId);
    }

    [Fact]
    public void A_marker_split_between_two_reads_is_found_and_a_replaced_log_is_read_afresh()
    {
        var dir = _root.Vm("serial").Directory;
        Directory.CreateDirectory(dir);
        var log = Path.Combine(dir, VmDirectory.SerialLogName);
        using var files = StateDirectory.OpenPath(dir, create: false)!;
        var scan = new SerialMarkerScan("CASTRA-READY");

        Assert.False(scan.Look(files, 100)); // No log yet.
        File.WriteAllText(log, new string('x', 5000) + "CASTRA-RE");
        Assert.False(scan.Look(files, 100));
        File.AppendAllText(log, "ADY acpi\n");
        Assert.True(scan.Look(files, 100));

        var fresh = new SerialMarkerScan("SECOND");
        File.WriteAllText(log, new string('y', 100));
        Assert.False(fresh.Look(files, 100));
        File.WriteAllText(log, "SECOND"); // Shorter than what was read: a new log.
        Assert.True(fresh.Look(files, 100));

        // A new start deletes and recreates the log, written by a new QEMU: read from its start even when it is
        // longer (the file system may give the new log the old one's inode number).
        var third = new SerialMarkerScan("THIRD");
        File.WriteAllText(log, new string('z', 100));
        Assert.False(third.Look(files, 100));
        File.Delete(log);
        File.WriteAllText(log, "THIRD" + new string('w', 200));
        Assert.True(third.Look(files, 101));
    }

    [Fact]
    public void A_serial_log_that_is_a_fifo_or_a_link_is_refused_not_read()
    {
        var dir = _root.Vm("serial").Directory;
        Directory.CreateDirectory(dir);
        var log = Path.Combine(dir, VmDirectory.SerialLogName);
        using var files = StateDirectory.OpenPath(dir, create: false)!;

        using (var mkfifo = Process.Start("mkfifo", [log]))
        {
            mkfifo.WaitForExit();
        }

        Assert.Throws<UnsafeStateFileException>(() => new SerialMarkerScan("X").Look(files, 100));

        File.Delete(log);
        var target = Path.Combine(_root.Path, "target.log");
        File.WriteAllText(target, "X");
        File.CreateSymbolicLink(log, target);
        Assert.ThrowsAny<IOException>(() => new SerialMarkerScan("X").Look(files, 100));
    }

    private static async Task WaitForSocketAsync(string path)
    {
        var watch = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{path} did not appear");
            await Task.Delay(20);
        }
    }
}

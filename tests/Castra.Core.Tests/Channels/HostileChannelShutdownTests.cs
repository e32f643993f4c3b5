using System.Diagnostics;
using Castra.Events;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;
using static Castra.Tests.Support.HostileScripts;

namespace Castra.Tests.Channels;

/// <summary>
/// The whole engine (<see cref="ShutdownEngine"/>) against a real fake-QEMU process whose channel is served by a
/// hostile in-process peer: nothing escapes, the run stays within its bounds, the cooperative step ends as
/// ChannelError (or falls back to ACPI) with a printable Detail naming the problem, and the escalation and the
/// outcome are recorded (events, shutdown.json, audit line).
/// </summary>
public sealed class HostileChannelShutdownTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(40);
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    /// <summary>Where the test plays the guest (or a broken QEMU's monitor): outside the VM's directory.</summary>
    private string GuestSide(string name)
    {
        var dir = Path.Combine(_root.Path, "guests");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name + ".sock");
    }

    /// <summary>
    /// A fake QEMU that serves <paramref name="socket"/> itself (qga.sock, or qmp.sock without its own QMP) and relays
    /// each connection to <paramref name="peer"/>, as a real QEMU relays qga.sock to the guest: the channel passes the
    /// check that the VM's QEMU serves it, and the test controls every byte on it.
    /// </summary>
    private FakeVm LaunchRelaying(string name, string behavior, string socket, HostileChannelServer peer, bool qmp = true) =>
        _root.Launch(name, behavior, qmp: qmp, extraArgs: ["--fake-relay", $"{socket}={peer.Path}"]);

    private async Task<(RecordingObserver Observer, VmShutdownResult Result)> StopAsync(string name, ShutdownOptions options)
    {
        var observer = new RecordingObserver();
        var watch = Stopwatch.StartNew();
        var results = await new ShutdownEngine(_root.Root).StopAsync([name], options, observer);
        Assert.True(watch.Elapsed < Bound, $"took {watch.Elapsed}");
        return (observer, results.Single());
    }

    /// <summary>The run ended as recorded: the last event, shutdown.json and the audit line all say <paramref name="outcome"/>.</summary>
    private void AssertRecorded(RecordingObserver observer, VmShutdownResult result, string name, ShutdownOutcome outcome)
    {
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(outcome.ToString(), Assert.IsType<ShutdownCompleteEvent>(observer.For(name)[^1]).Outcome);
        var status = StatusStore.TryRead(_root.Vm(name));
        Assert.NotNull(status);
        Assert.Equal("Complete", status.Phase);
        Assert.Equal(outcome.ToString(), status.Outcome);
        Assert.Contains(AuditTrail.Read(_root.Root), r => r.VmName == name && r.Outcome == outcome.ToString());
    }

    public static TheoryData<string, string?, string> HostileAgents() => new()
    {
        // sync reply, or null for a proper sync and then the message after guest-shutdown; fragment of the Detail.
        { "\u00ff[1,2]", null, "answered guest-sync with a malformed message (a JSON array, not a JSON object)" },
        { "\u00ff5", null, "a number, not a JSON object" },
        { "\u00ffnull", null, "null, not a JSON object" },
        { "\u00ff{\"return\": 1e400}", null, "its return is a number, not the integer Castra sent" },
        { "\u00ff{\"error\": 5}", null, "an error reply whose error member is a number, not an object" },
        { "\u00ff{\"error\": {\"desc\": [1]}}", null, "an error reply whose class is missing, not a string" },
        { "\u00ff{\"return\": \"\u00c3\u0028\"}", null, "a line that is not valid UTF-8" },
        { "\u00ff" + Nested(200), null, "JSON nested deeper than 32 levels" },
        { "\u00ff{\"error\": {\"class\": \"\\u001b[31m\", \"desc\": \"\\u202e\\n\"}}", null, "the guest agent refused guest-sync: \\x1B[31m: \\u202E\\x0A" },
        { "", "[1,2]", "the guest agent sent a malformed message (a JSON array, not a JSON object) after guest-shutdown" },
        { "", "{\"error\": {\"class\": \"GenericError\", \"desc\": [1]}}", "an error reply whose desc is a JSON array, not a string" },
        { "", string.Join("\n", Enumerable.Repeat("{\"return\": {}}", 50)), "more than 16 unexpected messages after guest-shutdown" },
    };

    [Theory]
    [MemberData(nameof(HostileAgents))]
    public async Task A_hostile_agent_with_method_agent_is_a_channel_error_then_signals(string syncReply, string? afterShutdown, string fragment)
    {
        await using var agent = new HostileChannelServer(GuestSide("ga"), GuestAgent(
            sync: syncReply.Length == 0 ? null : Send(syncReply),
            shutdown: afterShutdown is null ? null : Send(afterShutdown)));
        var vm = LaunchRelaying("ga", "ignore-acpi", _root.Vm("ga").AgentSocket, agent);

        var (observer, result) = await StopAsync("ga", new ShutdownOptions { Method = CooperativeMethod.Agent, CooperativeTimeout = TimeSpan.FromSeconds(20) });

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("ga"));
        Assert.Equal("Agent", observer.For("ga").OfType<CooperativeAttemptedEvent>().Single().Method);
        var timedOut = observer.For("ga").OfType<CooperativeTimedOutEvent>().Single();
        Assert.Equal("ChannelError", timedOut.Reason);
        Assert.Contains(fragment, timedOut.Detail);
        ChannelAssert.Printable(timedOut.Detail);
        Assert.Equal(timedOut.Detail!.Contains(" refused ") ? Remediation.AgentNotAnswering : Remediation.AgentMisbehaving, timedOut.Hint);
        Assert.True(timedOut.Timestamp - observer.For("ga")[0].Timestamp < TimeSpan.FromSeconds(10), "no wait for the 20 s window");
        Assert.Equal("SIGTERM", observer.For("ga").OfType<EscalationEvent>().Single().Signal);
        AssertRecorded(observer, result, "ga", ShutdownOutcome.Forced);
        Assert.False(vm.IsAlive);
        Assert.Equal(0, vm.Count("cmd:system_powerdown"));
    }

    [Fact]
    public async Task A_hostile_agent_in_auto_mode_falls_back_to_acpi_at_the_probe()
    {
        await using var agent = new HostileChannelServer(GuestSide("auto"), GuestAgent(sync: Send("\u00ff{\"return\": [1, 2]}")));
        var vm = LaunchRelaying("auto", "graceful", _root.Vm("auto").AgentSocket, agent);

        var (observer, result) = await StopAsync("auto", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(20) });

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("auto"));
        var attempted = observer.For("auto").OfType<CooperativeAttemptedEvent>().Single();
        Assert.Equal("ACPI", attempted.Method);
        Assert.Contains("guest agent unusable (the guest agent answered guest-sync with a malformed reply (its return is a JSON array", attempted.Detail);
        ChannelAssert.Printable(attempted.Detail);
        Assert.Equal("ACPI", observer.For("auto").OfType<CooperativeSucceededEvent>().Single().Method);
        AssertRecorded(observer, result, "auto", ShutdownOutcome.Graceful);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
    }

    [Fact]
    public async Task A_hostile_agent_after_guest_shutdown_hands_over_to_acpi_within_the_window_then_signals()
    {
        // The guest ignores the button too: the hand-over uses the rest of the window, then SIGTERM.
        await using var agent = new HostileChannelServer(GuestSide("handover"), GuestAgent(shutdown: Send("{\"error\": 5}")));
        var vm = LaunchRelaying("handover", "ignore-acpi", _root.Vm("handover").AgentSocket, agent);

        var (observer, result) = await StopAsync("handover", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(3) });

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("handover"));
        var attempts = observer.For("handover").OfType<CooperativeAttemptedEvent>().ToList();
        Assert.Equal(["Agent", "ACPI"], attempts.Select(a => a.Method));
        Assert.Contains("an error reply whose error member is a number, not an object", attempts[1].Detail);
        Assert.Contains("falling back to the ACPI power button within the same window", attempts[1].Detail);
        ChannelAssert.Printable(attempts[1].Detail);
        Assert.InRange(attempts[1].TimeoutMs, 1, 3000);
        Assert.Equal("TimeoutExpired", observer.For("handover").OfType<CooperativeTimedOutEvent>().Single().Reason);
        AssertRecorded(observer, result, "handover", ShutdownOutcome.Forced);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
    }

    [Fact]
    public async Task The_plan_with_a_hostile_agent_shows_the_acpi_fallback_and_changes_nothing()
    {
        await using var agent = new HostileChannelServer(GuestSide("plan"), GuestAgent(sync: Send("\u00ff1e400")));
        var vm = LaunchRelaying("plan", "graceful", _root.Vm("plan").AgentSocket, agent);

        var plan = (await new ShutdownPlanner(_root.Root).PlanAsync(["plan"], new ShutdownOptions())).Single();

        Assert.Equal("ACPI", plan.Method);
        Assert.Contains("guest agent unusable (the guest agent answered guest-sync with a malformed message (a number, not a JSON object): 1e400); using ACPI", plan.Detail);
        ChannelAssert.Printable(plan.Detail);
        Assert.True(vm.IsAlive);
        Assert.Equal(0, vm.Count("cmd:system_powerdown"));
    }

    [Fact]
    public async Task The_probe_given_a_spent_window_reports_failures_instead_of_throwing()
    {
        await using var agent = new HostileChannelServer(GuestSide("spent"), GuestAgent());
        var vm = LaunchRelaying("spent", "graceful", _root.Vm("spent").AgentSocket, agent);

        using var dir = VmDirectory.TryOpen(vm.Paths)!;
        using var qemu = Castra.Processes.TrackedProcess.Open(vm.Pid)!;
        await using var probe = await ChannelProbe.RunAsync(dir, qemu, new ShutdownOptions(), () => TimeSpan.FromSeconds(-1), CancellationToken.None);

        Assert.Null(probe.Qmp);
        Assert.NotNull(probe.QmpError);
        Assert.Null(probe.Agent);
        Assert.NotNull(probe.AgentError);
        Assert.Equal(CooperativeFailureReason.ChannelError, probe.Decide(CooperativeMethod.Auto).Failure);
    }

    // Engine-level hostile QMP: the fake QEMU runs without QMP of its own and relays its qmp.sock to the test's peer
    // (as for the agent), so the VM's QEMU serves the socket and the test controls every byte. The QMP client itself
    // is covered against a hostile peer in HostileQmpClientTests.
    [Fact]
    public async Task Engine_with_hostile_qmp_a_mistyped_status_is_a_channel_error_then_signals()
    {
        await using var qmp = new HostileChannelServer(GuestSide("mistyped"), QmpMonitor("query-status", Send("""{"return": {"status": 5}, "id": $ID}""")));
        var vm = LaunchRelaying("mistyped", "graceful", _root.Vm("mistyped").QmpSocket, qmp, qmp: false);

        var (observer, result) = await StopAsync("mistyped", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(20) });

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("mistyped"));
        var timedOut = observer.For("mistyped").OfType<CooperativeTimedOutEvent>().Single();
        Assert.Equal("ChannelError", timedOut.Reason);
        Assert.Contains("QEMU answered query-status with a malformed reply (its status is a number, not a string)", timedOut.Detail);
        ChannelAssert.Printable(timedOut.Detail);
        Assert.Contains("does not behave like QEMU's QMP monitor", timedOut.Hint);
        AssertRecorded(observer, result, "mistyped", ShutdownOutcome.Forced);
    }

    // Engine-level hostile QMP, see above.
    [Fact]
    public async Task Engine_with_hostile_qmp_an_event_flood_during_the_button_press_is_a_channel_error_then_signals()
    {
        await using var qmp = new HostileChannelServer(GuestSide("flood"), QmpMonitor("system_powerdown", Flood(TimeSpan.FromSeconds(30))));
        var vm = LaunchRelaying("flood", "graceful", _root.Vm("flood").QmpSocket, qmp, qmp: false);

        var (observer, result) = await StopAsync("flood", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(20) });

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("flood"));
        var timedOut = observer.For("flood").OfType<CooperativeTimedOutEvent>().Single();
        Assert.Equal("ChannelError", timedOut.Reason);
        Assert.Contains("messages within one second", timedOut.Detail);
        ChannelAssert.Printable(timedOut.Detail);
        AssertRecorded(observer, result, "flood", ShutdownOutcome.Forced);
    }

    [Theory]
    [InlineData("agent")]
    [InlineData("qmp")]
    public async Task A_socket_served_by_another_process_is_never_spoken_to_and_the_proven_qemu_is_escalated(string channel)
    {
        // The VM's own QEMU (a fake, without QMP when the impostor takes qmp.sock) is proven by its pidfile; another
        // process listens at its socket path. Nothing the impostor could answer is ever read, nothing is sent to it.
        var name = "impostor-" + channel;
        Directory.CreateDirectory(_root.Vm(name).Directory);
        var requests = 0;
        var socket = channel == "agent" ? _root.Vm(name).AgentSocket : _root.Vm(name).QmpSocket;
        await using var impostor = new HostileChannelServer(socket, async (connection, ct) =>
        {
            while (await connection.ReadRequestAsync(ct) is not null)
            {
                Interlocked.Increment(ref requests);
            }
        });
        var vm = _root.Launch(name, "ignore-acpi", qmp: channel == "agent");

        var method = channel == "agent" ? CooperativeMethod.Agent : CooperativeMethod.Acpi;
        var (observer, result) = await StopAsync(name, new ShutdownOptions { Method = method, CooperativeTimeout = TimeSpan.FromSeconds(20) });

        var timedOut = observer.For(name).OfType<CooperativeTimedOutEvent>().Single();
        Assert.Equal("ChannelError", timedOut.Reason);
        Assert.Contains("is not served by the VM's QEMU", timedOut.Detail);
        Assert.Equal(channel == "agent" ? Remediation.AgentSocketNotQemu : Remediation.For(Castra.Qmp.QmpErrorKind.PeerNotQemu, vm.Paths, Castra.Text.Wording.Neutral), timedOut.Hint);
        ChannelAssert.Printable(timedOut.Detail);
        Assert.Equal(0, Volatile.Read(ref requests));
        Assert.Equal("SIGTERM", observer.For(name).OfType<EscalationEvent>().Single().Signal);
        AssertRecorded(observer, result, name, ShutdownOutcome.Forced);
        Assert.False(vm.IsAlive);
    }
}

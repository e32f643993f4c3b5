using Castra.Events;
using Castra.Shutdown;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>Each path of the sequence, against real fake-QEMU processes: exact order, fields, and what the process received.</summary>
public sealed class ShutdownPathTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private async Task<(RecordingObserver Observer, VmShutdownResult Result)> StopAsync(string name, ShutdownOptions? options = null)
    {
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync([name], options ?? new ShutdownOptions(), observer);
        return (observer, results.Single());
    }

    private static void AssertWellFormed(IReadOnlyList<ShutdownEvent> events, string vm)
    {
        Assert.NotEmpty(events);
        Assert.Equal(Enumerable.Range(1, events.Count), events.Select(e => e.Sequence));
        Assert.All(events, e => Assert.Equal(vm, e.VmName));
        Assert.Single(events.Select(e => e.ShutdownId).Distinct());
        Assert.All(events, e => Assert.Equal(DateTimeKind.Utc, e.Timestamp.Kind));
        Assert.Equal(events.OrderBy(e => e.Timestamp).Select(e => e.Sequence), events.Select(e => e.Sequence));
        Assert.IsType<ShutdownRequestedEvent>(events[0]);
        Assert.IsType<ShutdownCompleteEvent>(events[^1]);
    }

    [Fact]
    public async Task Graceful_guest_stops_through_acpi_without_any_signal()
    {
        var vm = _root.Launch("web", "graceful", exitDelayMs: 100);

        var (observer, result) = await StopAsync("web");

        var events = observer.For("web");
        AssertWellFormed(events, "web");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], events.Select(e => e.Type));
        var attempted = Assert.IsType<CooperativeAttemptedEvent>(events[1]);
        Assert.Equal("ACPI", attempted.Method);
        Assert.Equal(60_000, attempted.TimeoutMs);
        var succeeded = Assert.IsType<CooperativeSucceededEvent>(events[2]);
        Assert.Equal("ACPI", succeeded.Method);
        Assert.InRange(succeeded.DurationMs, 100, 30_000);
        Assert.True(succeeded.GuestInitiated, "QEMU's SHUTDOWN event said the guest powered itself off");
        var complete = Assert.IsType<ShutdownCompleteEvent>(events[3]);
        Assert.Equal("Graceful", complete.Outcome);
        Assert.True(complete.Changed);
        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);

        Assert.False(vm.IsAlive);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
        Assert.DoesNotContain(vm.Records, r => r.StartsWith("signal:", StringComparison.Ordinal));
        Assert.False(File.Exists(vm.Paths.PidFile));
        Assert.False(File.Exists(vm.Paths.QmpSocket));
        Assert.Empty(observer.Diagnostics);
    }

    [Fact]
    public async Task Guest_ignoring_acpi_is_terminated_after_the_window()
    {
        var vm = _root.Launch("stubborn", "ignore-acpi");

        var (observer, result) = await StopAsync("stubborn", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(1) });

        var events = observer.For("stubborn");
        AssertWellFormed(events, "stubborn");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], events.Select(e => e.Type));
        var timedOut = Assert.IsType<CooperativeTimedOutEvent>(events[2]);
        Assert.Equal("TimeoutExpired", timedOut.Reason);
        Assert.Equal(1000, timedOut.TimeoutMs);
        Assert.False(string.IsNullOrWhiteSpace(timedOut.Hint));
        Assert.True(events[2].Timestamp - events[1].Timestamp >= TimeSpan.FromMilliseconds(900), "the window was waited out");
        var term = Assert.IsType<EscalationEvent>(events[3]);
        Assert.Equal("SIGTERM", term.Signal);
        Assert.Equal(10_000, term.WaitMs);
        Assert.Equal("Forced", Assert.IsType<ShutdownCompleteEvent>(events[4]).Outcome);
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);

        Assert.False(vm.IsAlive);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
        Assert.Equal(1, vm.Count("signal:TERM"));
    }

    [Fact]
    public async Task Process_ignoring_sigterm_is_killed_after_the_term_wait()
    {
        var vm = _root.Launch("zombie-maker", "ignore-term");

        var (observer, result) = await StopAsync("zombie-maker", new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(0.5),
            TermTimeout = TimeSpan.FromSeconds(0.5),
            KillTimeout = TimeSpan.FromSeconds(5),
        });

        var events = observer.For("zombie-maker");
        AssertWellFormed(events, "zombie-maker");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "Escalation", "ShutdownComplete"], events.Select(e => e.Type));
        Assert.Equal("SIGTERM", ((EscalationEvent)events[3]).Signal);
        var kill = Assert.IsType<EscalationEvent>(events[4]);
        Assert.Equal("SIGKILL", kill.Signal);
        Assert.Equal(5000, kill.WaitMs);
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
        Assert.False(vm.IsAlive);
        Assert.Equal(1, vm.Count("signal:TERM"));

        // SIGKILL leaves QEMU's files behind; Castra removes them once the process is gone.
        Assert.False(File.Exists(vm.Paths.PidFile));
        Assert.False(File.Exists(vm.Paths.QmpSocket));
    }

    [Fact]
    public async Task Missing_qmp_socket_is_reported_unavailable_at_once_then_escalated()
    {
        var vm = _root.Launch("noqmp", "graceful", qmp: false);

        var (observer, result) = await StopAsync("noqmp");

        var events = observer.For("noqmp");
        AssertWellFormed(events, "noqmp");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], events.Select(e => e.Type));
        var attempted = Assert.IsType<CooperativeAttemptedEvent>(events[1]);
        Assert.Equal("Unavailable", attempted.Method);
        Assert.Equal(0, attempted.TimeoutMs);
        var timedOut = Assert.IsType<CooperativeTimedOutEvent>(events[2]);
        Assert.Equal("ChannelUnavailable", timedOut.Reason);
        Assert.Equal(0, timedOut.TimeoutMs);
        Assert.Contains("-qmp unix:", timedOut.Hint);
        Assert.Contains(vm.Paths.QmpSocket, timedOut.Hint);
        Assert.True(events[2].Timestamp - events[1].Timestamp < TimeSpan.FromSeconds(5), "no wait on the Unavailable path");
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
        Assert.Equal(1, vm.Count("signal:TERM"));
    }

    [Theory]
    [InlineData("bad-greeting", "not a QMP greeting")]
    [InlineData("error-reply", "fake failure")]
    [InlineData("no-greeting", "no QMP greeting")]
    public async Task Broken_channel_is_a_channel_error_with_detail_and_hint_and_no_long_wait(string behavior, string detail)
    {
        var vm = _root.Launch("broken", behavior);

        var (observer, result) = await StopAsync("broken", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(60) });

        var events = observer.For("broken");
        AssertWellFormed(events, "broken");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], events.Select(e => e.Type));
        var timedOut = Assert.IsType<CooperativeTimedOutEvent>(events[2]);
        Assert.Equal("ChannelError", timedOut.Reason);
        Assert.Contains(detail, timedOut.Detail);
        Assert.False(string.IsNullOrWhiteSpace(timedOut.Hint));

        // The per-step QMP bounds (seconds) apply, not the 60 s window.
        Assert.True(events[2].Timestamp - events[1].Timestamp < TimeSpan.FromSeconds(20));
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public async Task Force_skips_the_cooperative_step_but_keeps_the_shape()
    {
        var vm = _root.Launch("forced", "graceful");

        var (observer, result) = await StopAsync("forced", new ShutdownOptions { Force = true });

        var events = observer.For("forced");
        AssertWellFormed(events, "forced");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], events.Select(e => e.Type));
        Assert.Equal("None", ((CooperativeAttemptedEvent)events[1]).Method);
        Assert.Equal("Skipped", ((CooperativeTimedOutEvent)events[2]).Reason);
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
        Assert.Equal(0, vm.Count("cmd:system_powerdown"));
        Assert.Equal(1, vm.Count("signal:TERM"));
    }

    [Fact]
    public async Task Already_stopped_vm_reports_requested_then_complete_unchanged()
    {
        Directory.CreateDirectory(_root.Vm("idle").Directory);

        var (observer, result) = await StopAsync("idle");

        var events = observer.For("idle");
        AssertWellFormed(events, "idle");
        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], events.Select(e => e.Type));
        var complete = (ShutdownCompleteEvent)events[1];
        Assert.Equal("Graceful", complete.Outcome);
        Assert.False(complete.Changed);
        Assert.True(result.Stopped);
    }

    [Fact]
    public async Task Rerunning_after_completion_is_a_no_op()
    {
        var vm = _root.Launch("twice", "graceful");
        var (first, _) = await StopAsync("twice");
        Assert.True(((ShutdownCompleteEvent)first.Events[^1]).Changed);

        var (second, result) = await StopAsync("twice");

        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], second.TypesFor("twice"));
        Assert.False(((ShutdownCompleteEvent)second.Events[^1]).Changed);
        Assert.NotEqual(first.Events[0].ShutdownId, second.Events[0].ShutdownId);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
        Assert.True(result.Stopped);
    }

    [Fact]
    public async Task Leftovers_of_a_killed_qemu_are_cleaned_without_signals()
    {
        var vm = _root.Launch("crashed", "graceful");
        vm.Kill();
        await vm.WaitUntilGoneAsync(TimeSpan.FromSeconds(10));
        Assert.True(File.Exists(vm.Paths.PidFile));

        var (observer, result) = await StopAsync("crashed");

        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], observer.TypesFor("crashed"));
        var complete = (ShutdownCompleteEvent)observer.Events[^1];
        Assert.False(complete.Changed);
        Assert.Contains($"PID {vm.Pid}", complete.Detail);
        Assert.False(File.Exists(vm.Paths.PidFile));
        Assert.False(File.Exists(vm.Paths.QmpSocket));
        Assert.True(result.Stopped);
    }

    [Fact]
    public async Task Events_are_journaled_exactly_as_reported()
    {
        _root.Launch("journaled", "ignore-acpi");
        var (observer, _) = await StopAsync("journaled", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(0.5) });

        var lines = File.ReadAllLines(_root.Vm("journaled").Journal);
        Assert.Equal(observer.Events.Count, lines.Length);
        // Everything reported is journaled, but for the state root, which a reader fills in (it is where it read).
        Assert.Equal(observer.Events.Select(e => e with { StateRoot = "" }), lines.Select(EventJson.Deserialize));
        Assert.All(observer.Events, e => Assert.Equal(_root.Path, e.StateRoot));
    }

    [Fact]
    public async Task Polling_fallback_gives_the_same_sequences()
    {
        var graceful = _root.Launch("poll-ok", "graceful");
        var stubborn = _root.Launch("poll-stuck", "ignore-acpi");
        var observer = new RecordingObserver();

        await new ShutdownEngine(_root.Root).StopAsync(["poll-ok", "poll-stuck"], new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(1),
            UsePidfd = false,
        }, observer);

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("poll-ok"));
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("poll-stuck"));
        Assert.False(graceful.IsAlive);
        Assert.False(stubborn.IsAlive);
    }

    [Fact]
    public async Task Per_vm_timeouts_from_vm_json_apply_unless_the_call_overrides_them()
    {
        _root.Launch("tuned", "ignore-acpi");
        Castra.State.VmDefinitionStore.Write(_root.Vm("tuned"), new Castra.State.VmDefinition { CooperativeTimeoutSeconds = 0.7, TermTimeoutSeconds = 3 });

        var (observer, _) = await StopAsync("tuned");
        Assert.Equal(700, observer.Events.OfType<CooperativeAttemptedEvent>().Single().TimeoutMs);
        Assert.Equal(3000, observer.Events.OfType<EscalationEvent>().First().WaitMs);

        _root.Launch("tuned2", "ignore-acpi");
        Castra.State.VmDefinitionStore.Write(_root.Vm("tuned2"), new Castra.State.VmDefinition { CooperativeTimeoutSeconds = 30 });
        var (overridden, _) = await StopAsync("tuned2", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(0.4) });
        Assert.Equal(400, overridden.Events.OfType<CooperativeAttemptedEvent>().Single().TimeoutMs);
    }

    [Fact]
    public async Task A_paused_guest_is_detected_in_pre_flight_without_waiting_the_window()
    {
        var vm = _root.Launch("paused", "graceful");
        await using (var qmp = await Castra.Qmp.QmpClient.ConnectAsync(vm.Paths.QmpSocket, Castra.Qmp.QmpTimeouts.Default, CancellationToken.None))
        {
            using var _ = await qmp.ExecuteAsync("stop", TimeSpan.FromSeconds(2), CancellationToken.None);
        }

        var (observer, result) = await StopAsync("paused", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(60) });

        var events = observer.For("paused");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], events.Select(e => e.Type));
        Assert.Equal("Unavailable", ((CooperativeAttemptedEvent)events[1]).Method);
        var timedOut = (CooperativeTimedOutEvent)events[2];
        Assert.Equal("ChannelUnavailable", timedOut.Reason);
        Assert.Equal("guest is paused", timedOut.Detail);
        Assert.Contains("cont", timedOut.Hint);
        Assert.True(events[2].Timestamp - events[0].Timestamp < TimeSpan.FromSeconds(20), "no cooperative wait for a paused guest");
        Assert.Equal(0, vm.Count("cmd:system_powerdown"));
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
    }

    [Fact]
    public async Task The_power_button_is_pressed_again_inside_the_window()
    {
        var vm = _root.Launch("deaf", "ignore-acpi");

        var (observer, _) = await StopAsync("deaf", new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(2),
            AcpiResendInterval = TimeSpan.FromSeconds(0.5),
        });

        Assert.InRange(vm.Count("cmd:system_powerdown"), 3, 5);
        Assert.Contains("pressed", observer.Events.OfType<CooperativeTimedOutEvent>().Single().Detail);
    }

    [Fact]
    public async Task Agent_method_without_an_agent_socket_is_unavailable()
    {
        var vm = _root.Launch("noagent", "graceful");

        var (observer, _) = await StopAsync("noagent", new ShutdownOptions { Method = CooperativeMethod.Agent });

        var events = observer.For("noagent");
        Assert.Equal("Unavailable", ((CooperativeAttemptedEvent)events[1]).Method);
        var timedOut = (CooperativeTimedOutEvent)events[2];
        Assert.Equal("ChannelUnavailable", timedOut.Reason);
        Assert.Contains("qga.sock", timedOut.Detail);
        Assert.Equal(0, vm.Count("cmd:system_powerdown"));
    }
}

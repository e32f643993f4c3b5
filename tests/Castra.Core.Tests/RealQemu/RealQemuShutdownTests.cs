using System.Diagnostics;
using Castra.Errors;
using Castra.Events;
using Castra.Launch;
using Castra.Native;
using Castra.Qmp;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.RealQemu;

/// <summary>End to end against real QEMU processes booting the tiny test guest (tests/fixtures/guest).</summary>
[Collection(RealQemuGroup.Name)]
public sealed class RealQemuShutdownTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose()
    {
        foreach (var name in _root.Root.ListVmNames())
        {
            var pidFile = _root.Vm(name).PidFile;
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                Libc.kill(pid, Libc.SIGKILL);
            }
        }

        _root.Dispose();
    }

    private async Task<(RecordingObserver Observer, IReadOnlyList<VmShutdownResult> Results)> StopAsync(ShutdownOptions options, params string[] names)
    {
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync(names, options, observer);
        return (observer, results);
    }

    [Fact]
    public async Task Acpi_guest_powers_itself_off_with_no_signal()
    {
        await RealGuest.StartAsync(_root.Root, "acpi", "acpi");
        var vm = _root.Vm("acpi");

        var (observer, results) = await StopAsync(new ShutdownOptions(), "acpi");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("acpi"));
        Assert.Equal("ACPI", observer.Events.OfType<CooperativeAttemptedEvent>().Single().Method);
        var succeeded = observer.Events.OfType<CooperativeSucceededEvent>().Single();
        Assert.Equal("ACPI", succeeded.Method);
        Assert.True(succeeded.GuestInitiated);
        Assert.Empty(observer.Events.OfType<EscalationEvent>());
        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
        Assert.Contains("CASTRA-POWEROFF acpi", RealGuest.SerialLog(vm));
        Assert.False(File.Exists(vm.PidFile));
        Assert.False(File.Exists(vm.QmpSocket));
        Assert.Equal("Stopped", (await VmInventory.DescribeAsync(vm)).State);
    }

    [Fact]
    public async Task Two_guests_in_two_groups_stop_in_their_shutdown_order()
    {
        // The order is recorded at launch (vm.json), as castra up --shutdown-order / Start-CastraVm -ShutdownOrder do.
        var db = new VmLauncher(_root.Root).StartAsync("db", RealGuest.Options("acpi", shutdownOrder: 2));
        var web = new VmLauncher(_root.Root).StartAsync("web", RealGuest.Options("acpi", shutdownOrder: 1));
        await Task.WhenAll(db, web);
        await Task.WhenAll(
            RealGuest.WaitForSerialAsync(_root.Vm("db"), "CASTRA-READY", TimeSpan.FromSeconds(90)),
            RealGuest.WaitForSerialAsync(_root.Vm("web"), "CASTRA-READY", TimeSpan.FromSeconds(90)));

        var (observer, results) = await StopAsync(new ShutdownOptions(), "db", "web");

        Assert.All(results, r => Assert.Equal(ShutdownOutcome.Graceful, r.Outcome));
        var webDone = observer.For("web").OfType<ShutdownCompleteEvent>().Single();
        var dbRequested = observer.For("db").OfType<ShutdownRequestedEvent>().Single();
        Assert.True(webDone.Timestamp <= dbRequested.Timestamp, "the web guest was off before the db guest was asked");
        Assert.Equal(1, observer.For("web").OfType<ShutdownRequestedEvent>().Single().ShutdownOrder);
        Assert.Equal(2, dbRequested.ShutdownOrder);
        Assert.Contains("CASTRA-POWEROFF acpi", RealGuest.SerialLog(_root.Vm("web")));
        Assert.Contains("CASTRA-POWEROFF acpi", RealGuest.SerialLog(_root.Vm("db")));
    }

    [Fact]
    public async Task Agent_guest_is_shut_down_through_the_agent_in_auto_mode()
    {
        await RealGuest.StartAsync(_root.Root, "agent", "agent", agentChannel: true);
        var vm = _root.Vm("agent");

        var (observer, results) = await StopAsync(new ShutdownOptions(), "agent");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("agent"));
        Assert.Equal("Agent", observer.Events.OfType<CooperativeAttemptedEvent>().Single().Method);
        Assert.Equal("Agent", observer.Events.OfType<CooperativeSucceededEvent>().Single().Method);
        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
        Assert.Contains("CASTRA-POWEROFF agent", RealGuest.SerialLog(vm));
        Assert.False(File.Exists(vm.AgentSocket));
    }

    [Fact]
    public async Task A_dead_agent_falls_back_to_acpi()
    {
        // The agent channel exists on the host, but nothing answers inside the guest (no qemu-ga running).
        await RealGuest.StartAsync(_root.Root, "deadagent", "acpi", agentChannel: true);
        var vm = _root.Vm("deadagent");
        Assert.True(File.Exists(vm.AgentSocket));

        var (observer, results) = await StopAsync(new ShutdownOptions(), "deadagent");

        var attempted = observer.Events.OfType<CooperativeAttemptedEvent>().Single();
        Assert.Equal("ACPI", attempted.Method);
        Assert.Contains("guest agent unusable", attempted.Detail);
        Assert.Equal("ACPI", observer.Events.OfType<CooperativeSucceededEvent>().Single().Method);
        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
        Assert.Contains("CASTRA-POWEROFF acpi", RealGuest.SerialLog(vm));
    }

    [Fact]
    public async Task Guest_ignoring_acpi_is_escalated_to_sigterm()
    {
        await RealGuest.StartAsync(_root.Root, "deaf", "noacpi");

        var (observer, results) = await StopAsync(new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(3) }, "deaf");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("deaf"));
        Assert.Equal("TimeoutExpired", observer.Events.OfType<CooperativeTimedOutEvent>().Single().Reason);
        Assert.Equal("SIGTERM", observer.Events.OfType<EscalationEvent>().Single().Signal);
        Assert.Equal(ShutdownOutcome.Forced, results.Single().Outcome);
        Assert.DoesNotContain("CASTRA-POWEROFF", RealGuest.SerialLog(_root.Vm("deaf")));
    }

    [Fact]
    public async Task A_stopped_qemu_is_a_quick_channel_error_then_sigkill_ends_it()
    {
        var info = await RealGuest.StartAsync(_root.Root, "frozen", "acpi");
        Assert.Equal(0, Libc.kill(info.Pid!.Value, 19 /* SIGSTOP */));

        var watch = Stopwatch.StartNew();
        var (observer, results) = await StopAsync(new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(60),
            TermTimeout = TimeSpan.FromSeconds(2),
            KillTimeout = TimeSpan.FromSeconds(10),
        }, "frozen");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "Escalation", "ShutdownComplete"], observer.TypesFor("frozen"));
        var timedOut = observer.Events.OfType<CooperativeTimedOutEvent>().Single();
        Assert.Equal("ChannelError", timedOut.Reason);
        Assert.Contains("greeting", timedOut.Detail);
        Assert.Equal(["SIGTERM", "SIGKILL"], observer.Events.OfType<EscalationEvent>().Select(e => e.Signal));
        Assert.Equal(ShutdownOutcome.Forced, results.Single().Outcome);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(40), $"bounded well inside the 60 s window, took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_paused_guest_is_caught_in_pre_flight()
    {
        await RealGuest.StartAsync(_root.Root, "paused", "acpi");
        await using (var qmp = await QmpClient.ConnectAsync(_root.Vm("paused").QmpSocket, QmpTimeouts.Default, CancellationToken.None))
        {
            using var _ = await qmp.ExecuteAsync("stop", TimeSpan.FromSeconds(5), CancellationToken.None);
        }

        var (observer, results) = await StopAsync(new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(60) }, "paused");

        var timedOut = observer.Events.OfType<CooperativeTimedOutEvent>().Single();
        Assert.Equal("ChannelUnavailable", timedOut.Reason);
        Assert.Equal("guest is paused", timedOut.Detail);
        Assert.True(timedOut.Timestamp - observer.Events[0].Timestamp < TimeSpan.FromSeconds(15), "no wasted cooperative wait");
        Assert.Equal(ShutdownOutcome.Forced, results.Single().Outcome);
    }

    [Fact]
    public async Task Three_guests_at_once_each_take_their_own_path_and_the_good_ones_finish_first()
    {
        await RealGuest.StartAsync(_root.Root, "good", "acpi");
        await RealGuest.StartAsync(_root.Root, "helper", "agent", agentChannel: true);
        await RealGuest.StartAsync(_root.Root, "stuck", "noacpi");

        var (observer, results) = await StopAsync(new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(5) }, "good", "helper", "stuck");

        Assert.All(results, r => Assert.True(r.Stopped));
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("good"));
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("helper"));
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("stuck"));
        Assert.Equal("Agent", observer.For("helper").OfType<CooperativeSucceededEvent>().Single().Method);
        var completions = observer.Events.OfType<ShutdownCompleteEvent>().Select(c => c.VmName).ToList();
        Assert.Equal("stuck", completions[^1]);
    }

    [Fact]
    public async Task Starting_a_running_vm_is_refused_and_so_is_starting_one_that_is_shutting_down()
    {
        await RealGuest.StartAsync(_root.Root, "busy", "noacpi");

        var running = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(_root.Root).StartAsync("busy", RealGuest.Options("noacpi")));
        Assert.Equal("CastraVmAlreadyRunning", running.ErrorId);

        var observer = new RecordingObserver();
        var attempted = new TaskCompletionSource();
        observer.WhenEvent(e =>
        {
            if (e is CooperativeAttemptedEvent)
            {
                attempted.TrySetResult();
            }
        });
        var shutdown = new ShutdownEngine(_root.Root).StopAsync(["busy"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(3) }, observer);
        await attempted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var during = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(_root.Root).StartAsync("busy", RealGuest.Options("noacpi")));
        Assert.Equal("CastraVmShuttingDown", during.ErrorId);
        Assert.Equal(CastraErrorCategory.ResourceBusy, during.Category);
        await shutdown;
    }

    [Fact]
    public async Task An_ephemeral_overlay_is_deleted_after_the_vm_stops_and_the_base_disk_is_untouched()
    {
        var disk = Path.Combine(_root.Path, "base.raw");
        await File.WriteAllBytesAsync(disk, new byte[1024 * 1024]);
        var baseBefore = await File.ReadAllBytesAsync(disk);
        var options = RealGuest.Options("acpi");
        await new VmLauncher(_root.Root).StartAsync("scratch", new LaunchOptions
        {
            Kernel = options.Kernel, Initrd = options.Initrd, Append = options.Append, MemoryMB = 128, Accelerator = "tcg",
            Disk = disk, Ephemeral = true,
        });
        var vm = _root.Vm("scratch");
        var overlay = Path.Combine(vm.Directory, "ephemeral.qcow2");
        Assert.True(File.Exists(overlay));
        await RealGuest.WaitForSerialAsync(vm, "CASTRA-READY", TimeSpan.FromSeconds(90));

        var (_, results) = await StopAsync(new ShutdownOptions(), "scratch");

        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
        Assert.False(File.Exists(overlay));
        Assert.Equal(baseBefore, await File.ReadAllBytesAsync(disk));
    }

    [Fact]
    public async Task Launch_records_the_start_time_and_timeouts_in_vm_json()
    {
        var info = await new VmLauncher(_root.Root).StartAsync("recorded", new LaunchOptions
        {
            Kernel = RealGuest.Kernel, Initrd = RealGuest.Initrd, Append = "console=ttyS0 quiet castra.mode=noacpi", MemoryMB = 128,
            Accelerator = "tcg", CooperativeTimeoutSeconds = 2, TermTimeoutSeconds = 4,
        });
        var definition = VmDefinitionStore.TryRead(_root.Vm("recorded"))!;
        Assert.Equal(Castra.Processes.ProcStat.TryRead(info.Pid!.Value)!.StartTime, definition.ProcessStartTime);
        Assert.Equal(2, definition.CooperativeTimeoutSeconds);

        var (observer, _) = await StopAsync(new ShutdownOptions(), "recorded");
        Assert.Equal(2000, observer.Events.OfType<CooperativeAttemptedEvent>().Single().TimeoutMs);
        Assert.Equal(4000, observer.Events.OfType<EscalationEvent>().First().WaitMs);
    }
}

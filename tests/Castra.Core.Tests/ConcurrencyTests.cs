using System.Diagnostics;
using System.Text.Json;
using Castra.Events;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>Many VMs at once; several callers on one VM; status visible mid-shutdown; cancellation; takeover.</summary>
public sealed class ConcurrencyTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task A_stuck_vm_never_delays_the_others()
    {
        var good = Enumerable.Range(1, 9).Select(i => _root.Launch($"good{i}", "graceful", exitDelayMs: 200)).ToList();
        var stuck = _root.Launch("stuck", "ignore-term");
        var observer = new RecordingObserver();

        var results = await new ShutdownEngine(_root.Root).StopAsync(
            [.. good.Select(v => v.Paths.Name), "stuck"],
            new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(2), TermTimeout = TimeSpan.FromSeconds(2), KillTimeout = TimeSpan.FromSeconds(5) },
            observer);

        Assert.Equal(10, results.Count);
        var completions = observer.Events.OfType<ShutdownCompleteEvent>().ToList();
        Assert.Equal("stuck", completions[^1].VmName);
        var stuckComplete = completions[^1];
        Assert.All(completions.SkipLast(1), c =>
        {
            Assert.Equal("Graceful", c.Outcome);
            Assert.True(c.Timestamp < stuckComplete.Timestamp - TimeSpan.FromSeconds(2), "good VMs finish long before the stuck one");
        });
        Assert.Equal("Forced", stuckComplete.Outcome);
        Assert.All(good, v => Assert.False(v.IsAlive));
        Assert.False(stuck.IsAlive);

        // Each VM's own events arrive in its order, whatever the interleaving.
        foreach (var name in results.Select(r => r.VmName))
        {
            var sequence = observer.For(name).Select(e => e.Sequence).ToList();
            Assert.Equal(Enumerable.Range(1, sequence.Count), sequence);
        }
    }

    [Fact]
    public async Task Throttle_limits_how_many_vms_are_worked_on_at_once()
    {
        foreach (var i in Enumerable.Range(1, 4))
        {
            _root.Launch($"t{i}", "graceful", exitDelayMs: 300);
        }

        var observer = new RecordingObserver();
        await new ShutdownEngine(_root.Root).StopAsync(["t1", "t2", "t3", "t4"], new ShutdownOptions { ThrottleLimit = 1 }, observer);

        // With one at a time, every VM's sequence is contiguous in the arrival order.
        var order = observer.Events.Select(e => e.VmName).ToList();
        var runs = order.Zip(order.Skip(1)).Count(p => p.First != p.Second);
        Assert.Equal(3, runs);
    }

    [Fact]
    public async Task Two_callers_in_one_process_send_one_set_of_signals_and_report_the_same_outcome()
    {
        var vm = _root.Launch("shared", "ignore-acpi");
        var options = new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(1.5) };
        var first = new RecordingObserver();
        var second = new RecordingObserver();

        var a = new ShutdownEngine(_root.Root).StopAsync(["shared"], options, first);
        var b = new ShutdownEngine(_root.Root).StopAsync(["shared"], options, second);
        var results = await Task.WhenAll(a, b);

        Assert.Equal(ShutdownOutcome.Forced, results[0].Single().Outcome);
        Assert.Equal(ShutdownOutcome.Forced, results[1].Single().Outcome);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
        Assert.Equal(1, vm.Count("signal:TERM"));

        // Both saw the same shutdown: the follower replays the owner's events.
        Assert.Equal(first.Events.Select(e => (e.ShutdownId, e.Sequence, e.Type)), second.Events.Select(e => (e.ShutdownId, e.Sequence, e.Type)));
    }

    [Fact]
    public async Task A_second_caller_in_another_process_follows_instead_of_signalling()
    {
        var vm = _root.Launch("crossproc", "ignore-acpi");
        var observer = new RecordingObserver();
        var started = new TaskCompletionSource();
        observer.WhenEvent(e =>
        {
            if (e is CooperativeAttemptedEvent)
            {
                started.TrySetResult();
            }
        });

        var owner = new ShutdownEngine(_root.Root).StopAsync(["crossproc"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(3) }, observer);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var (exit, stdout, stderr) = await CliRunner.RunAsync("down", "crossproc", "--json", "--home", _root.Path, "--cooperative-timeout", "1");
        await owner;

        Assert.True(exit == 0, stderr);
        var followed = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(EventJson.Deserialize).ToList();
        Assert.Equal(observer.Events.Select(e => (e.ShutdownId, e.Sequence, e.Type)), followed.Select(e => (e.ShutdownId, e.Sequence, e.Type)));

        // The owner's 3 s window applied (the follower's own 1 s option did not start a second shutdown).
        Assert.Equal(3000, followed.OfType<CooperativeAttemptedEvent>().Single().TimeoutMs);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
        Assert.Equal(1, vm.Count("signal:TERM"));
    }

    [Fact]
    public async Task Status_is_readable_by_anyone_while_a_shutdown_runs()
    {
        _root.Launch("observed", "ignore-acpi");
        var observer = new RecordingObserver();
        var inCooperative = new TaskCompletionSource();
        observer.WhenEvent(e =>
        {
            if (e is CooperativeAttemptedEvent)
            {
                inCooperative.TrySetResult();
            }
        });

        var run = new ShutdownEngine(_root.Root).StopAsync(["observed"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(3) }, observer);
        await inCooperative.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var during = ShutdownStatusReader.Read(_root.Vm("observed"));
        Assert.NotNull(during);
        Assert.Equal("InProgress", during.State);
        Assert.Equal("Cooperative", during.Phase);
        Assert.Equal(Environment.ProcessId, during.OwnerPid);
        Assert.InRange(during.RemainingMs, 1, 3000 + 10_000 + 5000);
        Assert.Null(during.Outcome);

        var (exit, stdout, _) = await CliRunner.RunAsync("status", "observed", "--json", "--home", _root.Path);
        Assert.Equal(0, exit);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal("InProgress", doc.RootElement.GetProperty("State").GetString());
        }

        await run;
        var after = ShutdownStatusReader.Read(_root.Vm("observed"))!;
        Assert.Equal("Complete", after.State);
        Assert.Equal("Forced", after.Outcome);
        Assert.Equal(during.ShutdownId, after.ShutdownId);
    }

    [Fact]
    public async Task Cancellation_stops_waiting_and_sends_nothing_further()
    {
        var vm = _root.Launch("cancelled", "ignore-acpi");
        var observer = new RecordingObserver();
        using var cts = new CancellationTokenSource();
        observer.WhenEvent(e =>
        {
            if (e is CooperativeAttemptedEvent)
            {
                cts.CancelAfter(200);
            }
        });

        var watch = Stopwatch.StartNew();
        var results = await new ShutdownEngine(_root.Root).StopAsync(["cancelled"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(60) }, observer, cts.Token);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "cancellation returns promptly, long before the 60 s window");
        Assert.Equal(ShutdownOutcome.Cancelled, results.Single().Outcome);
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "ShutdownComplete"], observer.TypesFor("cancelled"));
        Assert.Equal("Cancelled", ((ShutdownCompleteEvent)observer.Events[^1]).Outcome);
        Assert.True(vm.IsAlive);
        Assert.Equal(0, vm.Count("signal:TERM"));
        Assert.Equal("Cancelled", ShutdownStatusReader.Read(_root.Vm("cancelled"))!.Outcome);
    }

    [Fact]
    public async Task A_dead_owner_is_reported_interrupted_and_the_next_shutdown_takes_over()
    {
        var vm = _root.Launch("orphaned", "ignore-acpi");
        using var cli = CliRunner.Start("down", "orphaned", "--home", _root.Path, "--cooperative-timeout", "60", "--json");
        var firstLine = await cli.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("ShutdownRequested", firstLine);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ShutdownStatusReader.Read(_root.Vm("orphaned"))?.Phase != "Cooperative" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        cli.Kill();
        await cli.WaitForExitAsync();

        var interrupted = ShutdownStatusReader.Read(_root.Vm("orphaned"))!;
        Assert.Equal("Interrupted", interrupted.State);
        Assert.Equal("Cooperative", interrupted.Phase);

        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync(["orphaned"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(0.5) }, observer);

        Assert.Equal(ShutdownOutcome.Forced, results.Single().Outcome);
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == "CastraShutdownTakeover");
        var after = ShutdownStatusReader.Read(_root.Vm("orphaned"))!;
        Assert.Equal(interrupted.ShutdownId, after.TakeoverOf);
        Assert.Equal("Complete", after.State);
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public async Task Unknown_and_invalid_names_are_reported_per_vm_and_do_not_stop_the_others()
    {
        var vm = _root.Launch("real", "graceful");
        var observer = new RecordingObserver();

        var results = await new ShutdownEngine(_root.Root).StopAsync(["ghost", "../etc", "real"], new ShutdownOptions(), observer);

        Assert.Equal(ShutdownOutcome.Graceful, results.Single(r => r.VmName == "real").Outcome);
        Assert.Equal("CastraVmNotFound", results.Single(r => r.VmName == "ghost").ErrorId);
        Assert.Equal("CastraInvalidVmName", results.Single(r => r.VmName == "../etc").ErrorId);
        Assert.Contains(observer.Diagnostics, d => d.VmName == "ghost" && d.Severity == DiagnosticSeverity.Error);
        Assert.Empty(observer.For("ghost"));
        Assert.False(vm.IsAlive);
    }
}

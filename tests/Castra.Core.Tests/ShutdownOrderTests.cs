using Castra.Errors;
using Castra.Events;
using Castra.Launch;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>
/// Ordered shutdown groups (vm.json ShutdownOrder): lower orders stop first, group by group, concurrently within a
/// group; a stuck VM holds its group back only for its own ladder; the group delay; cancellation of waiting groups;
/// the plan's groups and the worst case of the whole order; damaged orders.
/// </summary>
public sealed class ShutdownOrderTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private FakeVm Launch(string name, int? order, string behavior = "graceful", int exitDelayMs = 50)
    {
        var vm = _root.Launch(name, behavior, exitDelayMs);
        if (order is not null)
        {
            VmDefinitionStore.Write(_root.Vm(name), new VmDefinition { ShutdownOrder = order });
        }

        return vm;
    }

    private static DateTime Requested(RecordingObserver observer, string vm) => observer.For(vm).OfType<ShutdownRequestedEvent>().Single().Timestamp;

    private static ShutdownCompleteEvent Complete(RecordingObserver observer, string vm) => observer.For(vm).OfType<ShutdownCompleteEvent>().Single();

    [Fact]
    public async Task Groups_stop_lowest_order_first_and_concurrently_within_a_group()
    {
        // cache has no vm.json: the default order 0, the first group. The caller's order does not matter.
        Launch("db", 20);
        Launch("web1", 10, exitDelayMs: 400);
        Launch("web2", 10, exitDelayMs: 400);
        Launch("cache", null, exitDelayMs: 200);
        var observer = new RecordingObserver();

        var results = await new ShutdownEngine(_root.Root).StopAsync(["db", "web1", "web2", "cache"], new ShutdownOptions(), observer);

        Assert.All(results, r => Assert.Equal(ShutdownOutcome.Graceful, r.Outcome));
        Assert.Equal(["db", "web1", "web2", "cache"], results.Select(r => r.VmName));

        // Every VM of a group has completed before any VM of the next group is even requested.
        Assert.True(Complete(observer, "cache").Timestamp <= Requested(observer, "web1"));
        Assert.True(Complete(observer, "cache").Timestamp <= Requested(observer, "web2"));
        Assert.True(Complete(observer, "web1").Timestamp <= Requested(observer, "db"));
        Assert.True(Complete(observer, "web2").Timestamp <= Requested(observer, "db"));

        // Within a group the VMs run at the same time: each was requested before the other completed.
        Assert.True(Requested(observer, "web1") < Complete(observer, "web2").Timestamp);
        Assert.True(Requested(observer, "web2") < Complete(observer, "web1").Timestamp);

        // Each VM's events say its group; the later groups were shown waiting (progress), the first was not.
        Assert.Equal(0, observer.For("cache").OfType<ShutdownRequestedEvent>().Single().ShutdownOrder);
        Assert.Equal(10, observer.For("web1").OfType<ShutdownRequestedEvent>().Single().ShutdownOrder);
        Assert.Equal(20, observer.For("db").OfType<ShutdownRequestedEvent>().Single().ShutdownOrder);
        var waiting = observer.Traces.Where(t => t.ErrorId == ErrorIds.WaitingForGroup).ToList();
        Assert.Equal(["db", "web1", "web2"], waiting.Select(t => t.VmName).Order());
        Assert.Contains("waiting for group 2 (order 10: web1, web2)", waiting.Single(t => t.VmName == "db").Message);
    }

    [Fact]
    public async Task A_stuck_vm_holds_the_next_group_back_only_for_its_own_ladder()
    {
        var stuck = Launch("stuck", 1, "ignore-term");
        var db = Launch("db", 2);
        var observer = new RecordingObserver();
        var options = new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(1), TermTimeout = TimeSpan.FromSeconds(1), KillTimeout = TimeSpan.FromSeconds(5) };

        var results = (await new ShutdownEngine(_root.Root).StopAsync(["db", "stuck"], options, observer)).ToDictionary(r => r.VmName);

        Assert.Equal(ShutdownOutcome.Forced, results["stuck"].Outcome);
        Assert.Equal(ShutdownOutcome.Graceful, results["db"].Outcome);
        var stuckComplete = Complete(observer, "stuck");
        Assert.True(stuckComplete.Timestamp <= Requested(observer, "db"), "db waited for the stuck VM of the first group");

        // The wait is the stuck VM's ladder, which is bounded: cooperative + TERM + KILL.
        Assert.True(stuckComplete.Timestamp - Requested(observer, "stuck") <= TimeSpan.FromSeconds(7));
        Assert.False(stuck.IsAlive);
        Assert.False(db.IsAlive);
    }

    [Fact]
    public async Task A_failed_vm_does_not_keep_the_next_group_from_stopping()
    {
        // A damaged hook file with HookErrorAction Stop fails "web"'s run before the guest is asked: group 2 goes on.
        var web = Launch("web", 1);
        var db = Launch("db", 2);
        File.WriteAllText(Path.Combine(_root.Path, "hooks.json"), "{ not json");
        var observer = new RecordingObserver();

        var results = (await new ShutdownEngine(_root.Root).StopAsync(["web", "db"], new ShutdownOptions { HookErrorAction = Castra.Hooks.HookErrorAction.Stop }, observer))
            .ToDictionary(r => r.VmName);

        Assert.Equal(ShutdownOutcome.Failed, results["web"].Outcome);
        Assert.True(web.IsAlive);
        Assert.Equal(ShutdownOutcome.Failed, results["db"].Outcome);
        Assert.True(Complete(observer, "web").Timestamp <= Requested(observer, "db"));
        Assert.True(db.IsAlive);
    }

    [Fact]
    public async Task The_group_delay_passes_between_groups_and_not_after_the_last()
    {
        Launch("web", 1);
        Launch("db", 2);
        var observer = new RecordingObserver();
        var delay = TimeSpan.FromSeconds(1.5);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await new ShutdownEngine(_root.Root).StopAsync(["web", "db"], new ShutdownOptions { GroupDelay = delay }, observer);
        var lastComplete = Complete(observer, "db").Timestamp;

        Assert.True(Requested(observer, "db") - Complete(observer, "web").Timestamp >= delay - TimeSpan.FromMilliseconds(20), "the delay passed before db was requested");
        Assert.Contains(observer.Traces, t => t.VmName == "db" && t.ErrorId == ErrorIds.WaitingForGroup && t.Message.Contains("then 1.5s", StringComparison.Ordinal));

        // The call returns once the last group is done: no delay after it.
        Assert.True(DateTime.UtcNow - lastComplete < delay, "no delay after the last group");
        Assert.True(watch.Elapsed >= delay);
    }

    [Fact]
    public async Task Ignore_order_stops_every_group_at_once()
    {
        Launch("web", 1, exitDelayMs: 400);
        Launch("db", 2, exitDelayMs: 400);
        var observer = new RecordingObserver();

        await new ShutdownEngine(_root.Root).StopAsync(["web", "db"], new ShutdownOptions { IgnoreOrder = true, GroupDelay = TimeSpan.FromSeconds(60) }, observer);

        Assert.True(Requested(observer, "db") < Complete(observer, "web").Timestamp);
        Assert.True(Requested(observer, "web") < Complete(observer, "db").Timestamp);
        Assert.DoesNotContain(observer.Traces, t => t.ErrorId == ErrorIds.WaitingForGroup);

        // The events still say each VM's recorded order.
        Assert.Equal(2, observer.For("db").OfType<ShutdownRequestedEvent>().Single().ShutdownOrder);
    }

    [Fact]
    public async Task Cancelling_while_a_group_waits_leaves_it_untouched_and_reported_cancelled()
    {
        var slow = Launch("slow", 1, "ignore-acpi");
        var db = Launch("db", 2);
        var observer = new RecordingObserver();
        using var cts = new CancellationTokenSource();
        observer.WhenEvent(e =>
        {
            if (e is CooperativeAttemptedEvent)
            {
                cts.CancelAfter(200);
            }
        });

        var results = (await new ShutdownEngine(_root.Root).StopAsync(["slow", "db"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(60) }, observer, cts.Token))
            .ToDictionary(r => r.VmName);

        Assert.Equal(ShutdownOutcome.Cancelled, results["slow"].Outcome);
        Assert.Equal(ShutdownOutcome.Cancelled, results["db"].Outcome);
        Assert.Equal(ErrorIds.ShutdownCancelled, results["db"].ErrorId);
        Assert.Contains("waiting for group 1", results["db"].Message);
        Assert.Empty(observer.For("db"));
        Assert.True(db.IsAlive);
        Assert.Equal(0, db.Count("qmp-connect"));
        Assert.False(File.Exists(_root.Vm("db").Status), "a VM never started gets no status");
        Assert.True(slow.IsAlive);
    }

    [Fact]
    public async Task Cancelling_during_the_group_delay_returns_at_once()
    {
        Launch("web", 1);
        var db = Launch("db", 2);
        var observer = new RecordingObserver();
        using var cts = new CancellationTokenSource();
        observer.WhenEvent(e =>
        {
            if (e is ShutdownCompleteEvent { VmName: "web" })
            {
                cts.CancelAfter(100);
            }
        });

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var results = (await new ShutdownEngine(_root.Root).StopAsync(["web", "db"], new ShutdownOptions { GroupDelay = TimeSpan.FromSeconds(120) }, observer, cts.Token))
            .ToDictionary(r => r.VmName);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the 120 s delay did not run out");
        Assert.Equal(ShutdownOutcome.Graceful, results["web"].Outcome);
        Assert.Equal(ShutdownOutcome.Cancelled, results["db"].Outcome);
        Assert.True(db.IsAlive);
    }

    [Fact]
    public async Task Each_run_of_StartEach_waits_for_its_group_and_cancels_alone()
    {
        // The -AsJob path: one task and one token per VM (Stop-Job on a child job cancels that VM only).
        var slow = Launch("slow", 1, "ignore-acpi");
        var db = Launch("db", 2);
        var observer = new RecordingObserver();
        using var slowToken = new CancellationTokenSource();
        using var dbToken = new CancellationTokenSource();

        var tasks = new ShutdownEngine(_root.Root).StartEach(
            [new VmRun("slow", observer, slowToken.Token), new VmRun("db", observer, dbToken.Token)],
            new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(60) });
        await dbToken.CancelAsync();
        var dbResult = await tasks[1];

        Assert.Equal(ShutdownOutcome.Cancelled, dbResult.Outcome);
        Assert.False(tasks[0].IsCompleted, "the first group goes on");
        await slowToken.CancelAsync();
        Assert.Equal(ShutdownOutcome.Cancelled, (await tasks[0]).Outcome);
        Assert.True(db.IsAlive);
        Assert.Empty(observer.For("db"));
        Assert.True(slow.IsAlive);
    }

    [Fact]
    public async Task The_plan_shows_the_groups_and_the_worst_case_of_the_whole_order()
    {
        Launch("db", 20);
        Launch("web1", 10);
        Launch("web2", 10);
        Launch("cache", null);
        Directory.CreateDirectory(_root.Vm("off").Directory);
        VmDefinitionStore.Write(_root.Vm("off"), new VmDefinition { ShutdownOrder = 10 });
        var options = new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(2),
            TermTimeout = TimeSpan.FromSeconds(1),
            KillTimeout = TimeSpan.FromSeconds(1),
            GroupDelay = TimeSpan.FromSeconds(3),
        };

        var plans = await new ShutdownPlanner(_root.Root).PlanAsync(["db", "web1", "off", "web2", "cache"], options);

        // In the order the groups stop; the caller's order within a group.
        Assert.Equal(["cache", "web1", "off", "web2", "db"], plans.Select(p => p.VmName));
        Assert.Equal([1, 2, 2, 2, 3], plans.Select(p => p.Group));
        Assert.Equal([0, 10, 10, 10, 20], plans.Select(p => p.ShutdownOrder));

        // Each running VM: 2 + 1 + 1 = 4 s. Group 2 starts after group 1 (4 s) and its delay (3 s); group 3 after
        // group 2's longest VM (4 s; the stopped VM takes 0) and another delay; no delay after the last group.
        Assert.All(plans.Where(p => p.State == "Running"), p => Assert.Equal(4_000, p.WorstCaseMs));
        Assert.Equal([0, 7_000, 7_000, 7_000, 14_000], plans.Select(p => p.EarlierGroupsMs));
        Assert.All(plans, p => Assert.Equal(18_000, p.OrderWorstCaseMs));

        // Ignoring the order: one group, each VM's recorded order still shown.
        var flat = await new ShutdownPlanner(_root.Root).PlanAsync(["db", "web1", "cache"], options with { IgnoreOrder = true });
        Assert.All(flat, p => Assert.Equal(1, p.Group));
        Assert.All(flat, p => Assert.Equal(4_000, p.OrderWorstCaseMs));
        Assert.Equal(20, flat.Single(p => p.VmName == "db").ShutdownOrder);

        // A throttle queues a group's VMs in batches: group 2 has two running VMs, one at a time.
        var throttled = await new ShutdownPlanner(_root.Root).PlanAsync(["db", "web1", "web2", "cache"], options with { ThrottleLimit = 1 });
        Assert.Equal(4_000 + 3_000 + 8_000 + 3_000 + 4_000, throttled[0].OrderWorstCaseMs);

        // The same rule, public for budgets that count each VM their own way (a host-shutdown unit): here a stopped VM
        // counted as if it ran (4 s) does not lengthen group 2, whose longest VM already takes 4 s.
        Assert.Equal(18_000, ShutdownPlanner.OrderWorstCaseMs(plans.Select(p => p with { WorstCaseMs = 4_000 }), 0, options.GroupDelay));
        Assert.Equal(22_000, ShutdownPlanner.OrderWorstCaseMs(plans.Select(p => p with { WorstCaseMs = 4_000 }), 2, options.GroupDelay));
    }

    [Fact]
    public async Task A_deadline_shorter_than_the_whole_order_refuses_before_anything_starts()
    {
        var web = Launch("web", 1);
        var db = Launch("db", 2);
        var options = new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(4),
            TermTimeout = TimeSpan.FromSeconds(2),
            KillTimeout = TimeSpan.FromSeconds(2),
            GroupDelay = TimeSpan.FromSeconds(1),
            Deadline = TimeSpan.FromSeconds(12),
        };

        // Each VM fits (8 s), the order does not (8 + 1 + 8 = 17 s).
        var ex = await Assert.ThrowsAsync<CastraException>(() => new ShutdownEngine(_root.Root).StopAsync(["web", "db"], options, new RecordingObserver()));
        Assert.Equal(ErrorIds.DeadlineExceeded, ex.ErrorId);
        Assert.Contains("shutdown order", ex.Message);
        Assert.Contains("17s", ex.Message);
        Assert.Equal("db", ex.Target);
        Assert.True(web.IsAlive);
        Assert.True(db.IsAlive);
        Assert.Equal(0, web.Count("cmd:system_powerdown"));

        var plans = await new ShutdownPlanner(_root.Root).PlanAsync(["web", "db"], options, options.Deadline);
        Assert.False(plans.Single(p => p.VmName == "web").ExceedsDeadline);
        Assert.True(plans.Single(p => p.VmName == "db").ExceedsDeadline);

        // The same VMs all at once fit.
        var flat = await new ShutdownEngine(_root.Root).PreviewAsync(["web", "db"], options with { IgnoreOrder = true });
        Assert.All(flat, p => Assert.False(p.ExceedsDeadline));
    }

    [Fact]
    public async Task A_vm_json_someone_else_wrote_stops_in_the_last_group_whatever_it_says()
    {
        // Another user's VM directory under the root: its vm.json asks for the first group and a day-long window.
        var byo = _root.Vm("byo");
        Directory.CreateDirectory(byo.Directory);
        VmDefinitionStore.Write(byo, new VmDefinition { ShutdownOrder = 0, CooperativeTimeoutSeconds = 86400 });
        OtherUser.Own(byo.Definition);
        OtherUser.Own(byo.Directory);
        Launch("db", 5);

        var plans = await new ShutdownEngine(_root.Root).PreviewAsync(["byo", "db"], new ShutdownOptions());

        var db = plans.Single(p => p.VmName == "db");
        var other = plans.Single(p => p.VmName == "byo");
        Assert.Equal(1, db.Group);
        Assert.Equal(0, db.EarlierGroupsMs);
        Assert.Equal(2, other.Group);
        Assert.Equal(ShutdownOrder.Max, other.ShutdownOrder);
    }

    [Theory]
    [InlineData("{\"ShutdownOrder\": -1}")]
    [InlineData("{\"ShutdownOrder\": 1001}")]
    [InlineData("{\"ShutdownOrder\": 1.5}")]
    [InlineData("{\"ShutdownOrder\": \"5\"}")]
    [InlineData("{\"ShutdownOrder\": 99999999999999999999}")]
    public async Task A_damaged_order_puts_the_vm_in_the_default_group_with_a_warning(string json)
    {
        Launch("web", 1);
        var bad = Launch("bad", null, exitDelayMs: 200);
        File.WriteAllText(_root.Vm("bad").Definition, json);
        var observer = new RecordingObserver();

        var ex = Assert.Throws<CastraException>(() => VmDefinitionStore.TryRead(_root.Vm("bad")));
        Assert.Equal(ErrorIds.VmDefinitionInvalid, ex.ErrorId);
        var results = (await new ShutdownEngine(_root.Root).StopAsync(["web", "bad"], new ShutdownOptions(), observer)).ToDictionary(r => r.VmName);

        Assert.Equal(ShutdownOutcome.Graceful, results["bad"].Outcome);
        Assert.Equal(ShutdownOutcome.Graceful, results["web"].Outcome);
        Assert.False(bad.IsAlive);
        Assert.Equal(ShutdownOrder.Default, observer.For("bad").OfType<ShutdownRequestedEvent>().Single().ShutdownOrder);
        Assert.True(Complete(observer, "bad").Timestamp <= Requested(observer, "web"), "order 0 stops before order 1");
        Assert.Contains(observer.Diagnostics, d => d.VmName == "bad" && d.ErrorId == ErrorIds.VmDefinitionInvalid && d.Severity == DiagnosticSeverity.Warning);
    }

    [Fact]
    public async Task A_vm_json_that_is_a_link_or_a_fifo_is_not_followed_and_gives_the_default_group()
    {
        Launch("web", 1);
        Launch("linked", null);
        Launch("piped", null);
        var target = Path.Combine(_root.Path, "elsewhere.json");
        File.WriteAllText(target, "{\"ShutdownOrder\": 5}");
        File.CreateSymbolicLink(_root.Vm("linked").Definition, target);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [_root.Vm("piped").Definition]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var plans = (await new ShutdownPlanner(_root.Root).PlanAsync(["web", "linked", "piped"], new ShutdownOptions())).ToDictionary(p => p.VmName);
        Assert.Equal(ShutdownOrder.Default, plans["linked"].ShutdownOrder);
        Assert.Equal(ShutdownOrder.Default, plans["piped"].ShutdownOrder);
        Assert.Equal(1, plans["linked"].Group);
        Assert.Equal(2, plans["web"].Group);

        var results = await new ShutdownEngine(_root.Root).StopAsync(["web", "linked", "piped"], new ShutdownOptions(), new RecordingObserver())
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, results.Count);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    public void Launch_options_refuse_an_order_out_of_range(int order)
    {
        var ex = Assert.Throws<CastraException>(() => new LaunchOptions { Kernel = "/k", ShutdownOrder = order }.Validate());
        Assert.Equal(ErrorIds.InvalidLaunchOptions, ex.ErrorId);
        Assert.Contains("0 and 1000", ex.Message);
        new LaunchOptions { Kernel = "/k", ShutdownOrder = 1000 }.Validate();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(86_401)]
    public void A_group_delay_out_of_range_is_refused(double seconds)
    {
        var ex = Assert.Throws<CastraException>(() => new ShutdownOptions { GroupDelay = TimeSpan.FromSeconds(seconds) }.Validate());
        Assert.Equal(ErrorIds.InvalidTimeout, ex.ErrorId);
    }

    [Fact]
    public async Task Set_changes_the_order_of_a_running_vm_keeping_the_rest_of_vm_json()
    {
        var web = Launch("web", null);
        File.WriteAllText(_root.Vm("web").Definition, "{\"CooperativeTimeoutSeconds\": 7, \"Owner\": \"team-web\"}");
        Launch("db", 5);

        Assert.Null(VmSettings.SetShutdownOrder(_root.Root, "web", 20));
        Assert.Equal(20, VmSettings.SetShutdownOrder(_root.Root, "web", 30));

        var definition = VmDefinitionStore.TryRead(_root.Vm("web"))!;
        Assert.Equal(30, definition.ShutdownOrder);
        Assert.Equal(7, definition.CooperativeTimeoutSeconds);
        Assert.Equal("team-web", definition.Extra!["Owner"].GetString());
        Assert.True(web.IsAlive, "the VM was not touched");
        var plans = await new ShutdownPlanner(_root.Root).PlanAsync(["web", "db"], new ShutdownOptions());
        Assert.Equal(["db", "web"], plans.Select(p => p.VmName));
        Assert.Equal(30, (await VmInventory.DescribeAsync(_root.Vm("web"))).ShutdownOrder);
    }

    [Fact]
    public async Task Set_refuses_a_bad_order_an_unknown_vm_a_damaged_vm_json_and_a_vm_being_shut_down()
    {
        Assert.Equal(ErrorIds.InvalidShutdownOrder, Assert.Throws<CastraException>(() => VmSettings.SetShutdownOrder(_root.Root, "web", 1001)).ErrorId);
        Assert.Equal(ErrorIds.VmNotFound, Assert.Throws<CastraException>(() => VmSettings.SetShutdownOrder(_root.Root, "ghost", 1)).ErrorId);
        Assert.Equal(ErrorIds.InvalidVmName, Assert.Throws<CastraException>(() => VmSettings.SetShutdownOrder(_root.Root, "../x", 1)).ErrorId);

        Launch("damaged", null);
        File.WriteAllText(_root.Vm("damaged").Definition, "{ not json");
        var damaged = Assert.Throws<CastraException>(() => VmSettings.SetShutdownOrder(_root.Root, "damaged", 1));
        Assert.Equal(ErrorIds.VmDefinitionInvalid, damaged.ErrorId);
        Assert.Equal("{ not json", File.ReadAllText(_root.Vm("damaged").Definition));

        var linked = Launch("linked", null);
        var target = Path.Combine(_root.Path, "elsewhere.json");
        File.WriteAllText(target, "{}");
        File.CreateSymbolicLink(_root.Vm("linked").Definition, target);
        Assert.Equal(ErrorIds.VmDefinitionInvalid, Assert.Throws<CastraException>(() => VmSettings.SetShutdownOrder(_root.Root, "linked", 1)).ErrorId);
        Assert.Equal("{}", File.ReadAllText(target));

        var slow = Launch("slow", 1, "ignore-acpi");
        var observer = new RecordingObserver();
        using var cts = new CancellationTokenSource();
        var attempted = new TaskCompletionSource();
        observer.WhenEvent(e =>
        {
            if (e is CooperativeAttemptedEvent)
            {
                attempted.TrySetResult();
            }
        });
        var stopping = new ShutdownEngine(_root.Root).StopAsync(["slow"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(60) }, observer, cts.Token);
        await attempted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var busy = Assert.Throws<CastraException>(() => VmSettings.SetShutdownOrder(_root.Root, "slow", 9));
        Assert.Equal(ErrorIds.VmShuttingDown, busy.ErrorId);
        Assert.Equal(1, VmDefinitionStore.TryRead(_root.Vm("slow"))!.ShutdownOrder);
        await cts.CancelAsync();
        await stopping;
        Assert.True(slow.IsAlive);
    }

    [Fact]
    public void A_large_group_is_named_in_a_short_line()
    {
        var plans = Enumerable.Range(1, 7).Select(i => new VmShutdownPlan { VmName = $"vm{i}", Group = 1, ShutdownOrder = 3, WorstCaseMs = 1_000 })
            .Append(new VmShutdownPlan { VmName = "db", Group = 2, ShutdownOrder = 9, EarlierGroupsMs = 1_000, WorstCaseMs = 1_000 })
            .ToList();

        Assert.Equal("group 1 (order 3: vm1, vm2, vm3, vm4, vm5 and 2 more), group 2 (order 9: db) after ≤1s", ShutdownPlanner.DescribeOrder(plans));
    }
}

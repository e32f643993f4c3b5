using System.Text.Json;
using Castra.Errors;
using Castra.Shutdown;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>The plan (-WhatIf / --dry-run) and the deadline refusal: computed by the engine, read-only.</summary>
public sealed class ShutdownPlanTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private Task<IReadOnlyList<VmShutdownPlan>> PlanAsync(ShutdownOptions options, TimeSpan? deadline, params string[] names) =>
        new ShutdownPlanner(_root.Root).PlanAsync(names, options, deadline);

    [Fact]
    public async Task Each_vm_gets_its_channel_budgets_and_worst_case_and_nothing_is_touched()
    {
        var acpi = _root.Launch("acpi", "graceful");
        _root.Launch("nochannel", "graceful", qmp: false);
        Directory.CreateDirectory(_root.Vm("off").Directory);

        var plans = (await PlanAsync(new ShutdownOptions { TermTimeout = TimeSpan.FromSeconds(4) }, null, "acpi", "nochannel", "off", "ghost")).ToDictionary(p => p.VmName);

        Assert.Equal("Running", plans["acpi"].State);
        Assert.Equal("ACPI", plans["acpi"].Method);
        Assert.Equal("running", plans["acpi"].GuestStatus);
        Assert.Equal(60_000 + 4_000 + 5_000, plans["acpi"].WorstCaseMs);
        Assert.StartsWith("ACPI power button (≤60s) → SIGTERM (≤4s) → SIGKILL (≤5s)", plans["acpi"].Steps);
        Assert.Equal("Unavailable", plans["nochannel"].Method);
        Assert.Equal(4_000 + 5_000, plans["nochannel"].WorstCaseMs);
        Assert.Equal("Stopped", plans["off"].State);
        Assert.Equal(0, plans["off"].WorstCaseMs);
        Assert.Equal("NotFound", plans["ghost"].State);

        Assert.True(acpi.IsAlive);
        Assert.Equal(0, acpi.Count("cmd:system_powerdown"));
        Assert.False(File.Exists(_root.Vm("acpi").Status), "a plan writes no status");
    }

    [Fact]
    public async Task Stopped_and_stale_vms_count_the_session_drain_and_the_PostStop_hooks_a_run_would_still_do()
    {
        var grace = 2 * Castra.Processes.GroupLeader.Grace.TotalMilliseconds;
        HookScripts.Register(_root, "export", "exit 0", timeoutSeconds: 7);
        HookScripts.Register(_root, "release", "exit 0", stage: Castra.Hooks.HookStage.PostStop, timeoutSeconds: 3);

        // crashed: its QEMU died and left its pidfile; a run removes it and runs the PostStop hooks.
        var crashed = _root.Launch("crashed", "graceful");
        crashed.Kill();
        await crashed.WaitUntilGoneAsync(TimeSpan.FromSeconds(20));

        // drained: stopped (no pidfile), but a guest session of it is still running; a run drains it.
        var drained = _root.Launch("drained", "graceful");
        var session = await new Castra.Sessions.SessionManager(_root.Root).StartAsync("drained", "/bin/sleep", ["1000"], _root.Path);
        _root.Track(System.Diagnostics.Process.GetProcessById(session.Pid));
        drained.Kill();
        await drained.WaitUntilGoneAsync(TimeSpan.FromSeconds(20));
        File.Delete(_root.Vm("drained").PidFile);

        // unsure: the pidfile names something that is not this VM's QEMU; a run signals nothing and runs no hook.
        Directory.CreateDirectory(_root.Vm("unsure").Directory);
        File.WriteAllText(_root.Vm("unsure").PidFile, "garbage\n");

        var plans = (await PlanAsync(new ShutdownOptions(), TimeSpan.FromSeconds(10), "crashed", "drained", "unsure")).ToDictionary(p => p.VmName);

        Assert.Equal("Stale", plans["crashed"].State);
        Assert.Equal(3_000 + grace, plans["crashed"].WorstCaseMs);
        Assert.Contains("release (PostStop, priority 100, ≤3s)", plans["crashed"].Hooks);
        Assert.DoesNotContain("export", plans["crashed"].Hooks);
        Assert.False(plans["crashed"].ExceedsDeadline);

        Assert.Equal("Stopped", plans["drained"].State);
        Assert.Equal(10_000 + grace, plans["drained"].WorstCaseMs);
        Assert.StartsWith("castra.drain-sessions (1 session(s)", plans["drained"].Hooks);
        Assert.DoesNotContain("release", plans["drained"].Hooks);
        Assert.DoesNotContain("export", plans["drained"].Hooks);
        Assert.True(plans["drained"].ExceedsDeadline);

        Assert.Equal("Stale", plans["unsure"].State);
        Assert.Equal(0, plans["unsure"].WorstCaseMs);
        Assert.Equal("", plans["unsure"].Hooks);

        // --deadline / -Deadline counts them too: nothing is started.
        var ex = await Assert.ThrowsAsync<CastraException>(() =>
            new ShutdownEngine(_root.Root).StopAsync(["crashed", "drained"], new ShutdownOptions { Deadline = TimeSpan.FromSeconds(10) }, new RecordingObserver()));
        Assert.Equal("CastraDeadlineExceeded", ex.ErrorId);
        Assert.Equal("drained", ex.Target);
        Assert.True(File.Exists(_root.Vm("crashed").PidFile), "nothing was started");
    }

    [Fact]
    public async Task A_paused_guest_and_force_shorten_the_worst_case()
    {
        var vm = _root.Launch("paused", "graceful");
        await using (var qmp = await Castra.Qmp.QmpClient.ConnectAsync(vm.Paths.QmpSocket, Castra.Qmp.QmpTimeouts.Default, CancellationToken.None))
        {
            using var _ = await qmp.ExecuteAsync("stop", TimeSpan.FromSeconds(2), CancellationToken.None);
        }

        var paused = (await PlanAsync(new ShutdownOptions(), null, "paused")).Single();
        Assert.Equal("Unavailable", paused.Method);
        Assert.Contains("guest is paused", paused.Detail);
        Assert.Equal(15_000, paused.WorstCaseMs);

        var forced = (await PlanAsync(new ShutdownOptions { Force = true }, null, "paused")).Single();
        Assert.Equal("None", forced.Method);
        Assert.Equal(15_000, forced.WorstCaseMs);
    }

    [Fact]
    public async Task A_deadline_refuses_before_anything_starts_and_names_the_vms()
    {
        var slow = _root.Launch("slow", "graceful");
        var fast = _root.Launch("fast", "graceful");
        Castra.State.VmDefinitionStore.Write(_root.Vm("fast"), new Castra.State.VmDefinition { CooperativeTimeoutSeconds = 5 });
        var observer = new RecordingObserver();

        var ex = await Assert.ThrowsAsync<CastraException>(() =>
            new ShutdownEngine(_root.Root).StopAsync(["slow", "fast"], new ShutdownOptions { Deadline = TimeSpan.FromSeconds(30) }, observer));

        Assert.Equal("CastraDeadlineExceeded", ex.ErrorId);
        Assert.Equal(CastraErrorCategory.LimitsExceeded, ex.Category);
        Assert.Contains("slow (75s)", ex.Message);
        Assert.DoesNotContain("fast", ex.Message);
        Assert.Empty(observer.Events);
        Assert.True(slow.IsAlive && fast.IsAlive);

        var results = await new ShutdownEngine(_root.Root).StopAsync(["fast"], new ShutdownOptions { Deadline = TimeSpan.FromSeconds(30) }, observer);
        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
    }

    [Fact]
    public async Task Cli_dry_run_prints_the_plan_as_json_and_deadline_exits_4()
    {
        _root.Launch("web", "graceful");

        var (exit, stdout, _) = await CliRunner.RunAsync("down", "web", "--dry-run", "--json", "--home", _root.Path);
        Assert.Equal(0, exit);
        using (var plan = JsonDocument.Parse(stdout))
        {
            Assert.Equal("ACPI", plan.RootElement.GetProperty("Method").GetString());
            Assert.Equal(75_000, plan.RootElement.GetProperty("WorstCaseMs").GetInt64());
        }

        var (refused, _, stderr) = await CliRunner.RunAsync("down", "web", "--deadline", "10", "--home", _root.Path);
        Assert.Equal(4, refused);
        Assert.Contains("CastraDeadlineExceeded", stderr);
        Assert.Equal("Running", (await Castra.State.VmInventory.DescribeAsync(_root.Vm("web"))).State);
    }

    [Fact]
    public void With_a_throttle_the_queue_counts_against_the_deadline()
    {
        var plans = Enumerable.Range(1, 4).Select(i => new VmShutdownPlan { VmName = $"vm{i}", State = "Running", WorstCaseMs = 20_000 })
            .Append(new VmShutdownPlan { VmName = "off", State = "Stopped", WorstCaseMs = 0 })
            .ToList();

        ShutdownPlanner.EnsureWithinDeadline(plans, TimeSpan.FromSeconds(30));
        ShutdownPlanner.EnsureWithinDeadline(plans, TimeSpan.FromSeconds(40), throttleLimit: 2);
        var ex = Assert.Throws<CastraException>(() => ShutdownPlanner.EnsureWithinDeadline(plans, TimeSpan.FromSeconds(30), throttleLimit: 2));
        Assert.Equal("CastraDeadlineExceeded", ex.ErrorId);
        Assert.Contains("throttle of 2", ex.Message);
        Assert.DoesNotContain("off", ex.Target);
    }
}

using System.Globalization;
using Castra.Errors;
using Castra.Events;
using Castra.Hooks;
using Castra.Processes;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Hooks;

/// <summary>Hooks run by real shutdowns of fake-QEMU VMs: order, concurrency, timeouts, failures, environment.</summary>
public sealed class HookExecutionTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private async Task<(RecordingObserver Observer, VmShutdownResult Result)> StopAsync(string name, ShutdownOptions? options = null)
    {
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync([name], options ?? new ShutdownOptions(), observer);
        return (observer, results.Single());
    }

    private static string StampTo(string file) => $"date +%s%N > \"$OUT/{file}\"";

    [Fact]
    public async Task Priorities_run_in_ascending_order_and_equal_priorities_run_concurrently()
    {
        _root.Launch("web", "graceful");
        HookScripts.Register(_root, "a", $"{StampTo("a.start")}\nsleep 0.5\n{StampTo("a.end")}", priority: 20);
        HookScripts.Register(_root, "b", $"{StampTo("b.start")}\nsleep 0.5\n{StampTo("b.end")}", priority: 20);
        HookScripts.Register(_root, "c", StampTo("c.start"), priority: 30);
        HookScripts.Register(_root, "after", StampTo("after.start"), stage: HookStage.PostStop);

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        long S(string f) => HookScripts.Stamp(_root, f);

        // Concurrent: each of a, b started before the other ended. Ordered: c started after both ended.
        Assert.True(S("a.start") < S("b.end") && S("b.start") < S("a.end"), "a and b overlapped");
        Assert.True(S("c.start") > Math.Max(S("a.end"), S("b.end")), "c (priority 30) started after priority 20 finished");

        var types = observer.TypesFor("web");
        var events = observer.For("web");
        Assert.Equal(Enumerable.Range(1, events.Count), events.Select(e => e.Sequence));
        Assert.Equal("ShutdownRequested", types[0]);
        Assert.Equal(["HookStarted", "HookStarted", "HookCompleted", "HookCompleted", "HookStarted", "HookCompleted"], types.Skip(1).Take(6));
        Assert.Equal(["a", "b"], events.OfType<HookStartedEvent>().Take(2).Select(e => e.HookName));
        Assert.Equal("c", events.OfType<HookStartedEvent>().ElementAt(2).HookName);
        Assert.Equal(["CooperativeAttempted", "CooperativeSucceeded", "HookStarted", "HookCompleted", "ShutdownComplete"], types.Skip(7));
        var post = events.OfType<HookStartedEvent>().Last();
        Assert.Equal(("after", "PostStop", 100, 30_000L), (post.HookName, post.Stage, post.Priority, post.TimeoutMs));
        Assert.True(S("after.start") > S("c.start"));

        var complete = Assert.IsType<ShutdownCompleteEvent>(events[^1]);
        Assert.Equal((4, 0, 0), (complete.HooksSucceeded, complete.HooksFailed, complete.HooksTimedOut));
        Assert.All(events.OfType<HookCompletedEvent>(), e => Assert.Equal(("Succeeded", 0), (e.Status, e.ExitCode!.Value)));
    }

    [Fact]
    public async Task A_hanging_hook_is_killed_at_its_timeout_together_with_what_it_spawned()
    {
        var vm = _root.Launch("db", "graceful");
        var pidFile = Path.Combine(HookScripts.Out(_root), "grandchild.pid");
        HookScripts.Register(_root, "hang", $"echo starting export\nsleep 1000 &\necho $! > '{pidFile}'\nsleep 1000", timeoutSeconds: 0.5);
        HookScripts.Register(_root, "stubborn", "trap '' TERM\nsleep 1000", timeoutSeconds: 0.5, priority: 120);

        var (observer, result) = await StopAsync("db");

        var completed = observer.For("db").OfType<HookCompletedEvent>().ToList();
        var hang = completed.Single(e => e.HookName == "hang");
        Assert.Equal("TimedOut", hang.Status);
        Assert.Contains("did not finish within 0.5s", hang.Message);
        Assert.Contains("starting export", hang.Message);
        var stubborn = completed.Single(e => e.HookName == "stubborn");
        Assert.Equal("TimedOut", stubborn.Status);
        Assert.Equal(128 + 9, stubborn.ExitCode); // ignored SIGTERM, so SIGKILL ended it

        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.True(ProcStat.TryRead(grandchild) is null or { IsDead: true }, $"the hook's background child {grandchild} was terminated with it");

        // Timed-out hooks do not stop the shutdown.
        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(vm.IsAlive);
        var complete = observer.For("db").OfType<ShutdownCompleteEvent>().Single();
        Assert.Equal(2, complete.HooksTimedOut);
    }

    [Fact]
    public async Task A_failing_hook_does_not_block_the_others_and_its_output_tail_explains_why()
    {
        _root.Launch("api", "graceful");
        HookScripts.Register(_root, "broken", "echo 'cannot reach backup server' >&2\nexit 3", priority: 50);
        HookScripts.Register(_root, "sibling", StampTo("sibling"), priority: 50);
        HookScripts.Register(_root, "later", StampTo("later"), priority: 60);

        var (observer, result) = await StopAsync("api");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        var broken = observer.For("api").OfType<HookCompletedEvent>().Single(e => e.HookName == "broken");
        Assert.Equal(("Failed", 3), (broken.Status, broken.ExitCode!.Value));
        Assert.Contains("exit code 3", broken.Message);
        Assert.Contains("cannot reach backup server", broken.Message);
        Assert.True(File.Exists(broken.LogPath));
        Assert.StartsWith(_root.Vm("api").Directory, broken.LogPath);
        Assert.True(File.Exists(Path.Combine(HookScripts.Out(_root), "sibling")));
        Assert.True(File.Exists(Path.Combine(HookScripts.Out(_root), "later")));
        var complete = observer.For("api").OfType<ShutdownCompleteEvent>().Single();
        Assert.Equal((2, 1, 0), (complete.HooksSucceeded, complete.HooksFailed, complete.HooksTimedOut));
    }

    [Fact]
    public async Task With_HookErrorAction_Stop_a_failing_PreStop_hook_aborts_before_the_guest_is_touched()
    {
        var vm = _root.Launch("keep", "graceful");
        HookScripts.Register(_root, "guard", "echo 'export failed' >&2\nexit 1", priority: 20);
        HookScripts.Register(_root, "never", StampTo("never"), priority: 30);
        HookScripts.Register(_root, "post", StampTo("post"), stage: HookStage.PostStop);

        var (observer, result) = await StopAsync("keep", new ShutdownOptions { HookErrorAction = HookErrorAction.Stop });

        Assert.Equal(ShutdownOutcome.Failed, result.Outcome);
        Assert.Equal(ErrorIds.HookFailed, result.ErrorId);
        Assert.True(vm.IsAlive, "the VM keeps running");
        Assert.DoesNotContain(vm.Records, r => r.StartsWith("cmd:", StringComparison.Ordinal) || r.StartsWith("signal:", StringComparison.Ordinal));
        Assert.Equal(["ShutdownRequested", "HookStarted", "HookCompleted", "ShutdownComplete"], observer.TypesFor("keep"));
        var complete = observer.For("keep").OfType<ShutdownCompleteEvent>().Single();
        Assert.Equal("Failed", complete.Outcome);
        Assert.False(complete.Changed);
        Assert.Contains("'guard'", complete.Detail);
        Assert.Contains("keeps running", complete.Detail);
        Assert.False(File.Exists(Path.Combine(HookScripts.Out(_root), "never")));
        Assert.False(File.Exists(Path.Combine(HookScripts.Out(_root), "post")));
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.HookFailed);
    }

    [Fact]
    public async Task Hooks_see_their_context_in_the_environment()
    {
        _root.Launch("envvm", "graceful");
        HookScripts.Register(_root, "env", "env | grep '^CASTRA_' > \"$OUT/env.txt\"\npwd > \"$OUT/pwd.txt\"");
        var before = DateTime.UtcNow;

        await StopAsync("envvm", new ShutdownOptions { Reason = ShutdownReason.Maintenance });

        var env = File.ReadAllLines(Path.Combine(HookScripts.Out(_root), "env.txt"))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("envvm", env["CASTRA_VM_NAME"]);
        Assert.Equal("PreStop", env["CASTRA_STAGE"]);
        Assert.Equal("Maintenance", env["CASTRA_REASON"]);
        Assert.Equal(_root.Vm("envvm").Directory, env["CASTRA_STATE_DIR"]);
        Assert.Equal("env", env["CASTRA_HOOK_NAME"]);
        Assert.Equal(_root.Path, env["CASTRA_HOME"]);
        Assert.EndsWith("Z", env["CASTRA_DEADLINE"]);
        var deadline = DateTimeOffset.Parse(env["CASTRA_DEADLINE"], CultureInfo.InvariantCulture);
        Assert.InRange(deadline, before.AddSeconds(29), before.AddSeconds(120));
        Assert.False(string.IsNullOrEmpty(env["CASTRA_SHUTDOWN_ID"]));
        Assert.Equal(_root.Path, File.ReadAllText(Path.Combine(HookScripts.Out(_root), "pwd.txt")).Trim());
    }

    [Fact]
    public async Task Force_skips_PreStop_hooks_but_PostStop_hooks_always_run()
    {
        _root.Launch("forced", "graceful");
        HookScripts.Register(_root, "pre", StampTo("pre"));
        HookScripts.Register(_root, "post", StampTo("post"), stage: HookStage.PostStop);

        var (observer, result) = await StopAsync("forced", new ShutdownOptions { Force = true });

        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
        Assert.False(File.Exists(Path.Combine(HookScripts.Out(_root), "pre")));
        Assert.True(File.Exists(Path.Combine(HookScripts.Out(_root), "post")));
        Assert.Equal(["post"], observer.For("forced").OfType<HookStartedEvent>().Select(e => e.HookName));
        Assert.Equal("ShutdownComplete", observer.TypesFor("forced")[^1]);
        Assert.Equal("HookCompleted", observer.TypesFor("forced")[^2]);
    }

    [Fact]
    public async Task Hooks_of_other_vms_do_not_run_and_a_stopped_vm_runs_none()
    {
        _root.Launch("mine", "graceful");
        Directory.CreateDirectory(_root.Vm("idle").Directory);
        HookScripts.Register(_root, "theirs", StampTo("theirs"), vm: "other");
        HookScripts.Register(_root, "everyone", "echo x >> \"$OUT/everyone\"");

        var (observer, _) = await StopAsync("mine");
        var (idle, idleResult) = await StopAsync("idle");

        Assert.False(File.Exists(Path.Combine(HookScripts.Out(_root), "theirs")));
        Assert.Single(File.ReadAllLines(Path.Combine(HookScripts.Out(_root), "everyone")));
        Assert.Equal(["everyone"], observer.For("mine").OfType<HookStartedEvent>().Select(e => e.HookName));
        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], idle.TypesFor("idle"));
        Assert.False(idleResult.Changed);
    }

    [Fact]
    public async Task PostStop_hooks_run_once_when_the_pidfile_names_a_qemu_that_already_exited()
    {
        var vm = _root.Launch("crashed", "graceful");
        HookScripts.Register(_root, "prepare", "echo x >> \"$OUT/pre\"");
        HookScripts.Register(_root, "release", "echo \"$CASTRA_STAGE\" >> \"$OUT/released\"", stage: HookStage.PostStop);
        vm.Kill(); // a crash: QEMU is gone, its pidfile is left behind
        await vm.WaitUntilGoneAsync(TimeSpan.FromSeconds(20));
        Assert.False(vm.IsAlive);
        Assert.True(File.Exists(_root.Vm("crashed").PidFile));

        var (observer, result) = await StopAsync("crashed");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(result.Changed);
        Assert.Equal(["ShutdownRequested", "HookStarted", "HookCompleted", "ShutdownComplete"], observer.TypesFor("crashed"));
        var started = observer.For("crashed").OfType<HookStartedEvent>().Single();
        Assert.Equal(("release", "PostStop"), (started.HookName, started.Stage));
        var complete = observer.For("crashed").OfType<ShutdownCompleteEvent>().Single();
        Assert.Equal(("Graceful", false, 1, 0, 0), (complete.Outcome, complete.Changed, complete.HooksSucceeded, complete.HooksFailed, complete.HooksTimedOut));
        Assert.Contains("its leftover pidfile and sockets were removed", complete.Detail);
        Assert.False(File.Exists(Path.Combine(HookScripts.Out(_root), "pre")), "no PreStop hook: there was no guest to prepare");
        Assert.Equal(["PostStop"], File.ReadAllLines(Path.Combine(HookScripts.Out(_root), "released")));
        Assert.False(File.Exists(_root.Vm("crashed").PidFile), "the leftover pidfile was removed");
        var status = StatusStore.TryRead(_root.Vm("crashed"))!;
        Assert.Equal(("Complete", 1, 1), (status.Phase, status.HooksTotal, status.HooksCompleted));

        // The re-run finds no pidfile: a no-op, so the resources are not released twice.
        var (again, againResult) = await StopAsync("crashed");
        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], again.TypesFor("crashed"));
        Assert.False(againResult.Changed);
        Assert.Single(File.ReadAllLines(Path.Combine(HookScripts.Out(_root), "released")));
        Assert.Equal(0, StatusStore.TryRead(_root.Vm("crashed"))!.HooksTotal);
    }

    [Fact]
    public async Task No_hooks_run_without_a_pidfile_or_when_the_pidfile_names_something_else()
    {
        Directory.CreateDirectory(_root.Vm("off").Directory);
        Directory.CreateDirectory(_root.Vm("unsure").Directory);
        File.WriteAllText(_root.Vm("unsure").PidFile, "garbage\n");
        HookScripts.Register(_root, "prepare", "echo x >> \"$OUT/ran\"");
        HookScripts.Register(_root, "release", "echo x >> \"$OUT/ran\"", stage: HookStage.PostStop);

        var (off, offResult) = await StopAsync("off");
        var (unsure, unsureResult) = await StopAsync("unsure");

        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], off.TypesFor("off"));
        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], unsure.TypesFor("unsure"));
        Assert.Equal((ShutdownOutcome.Graceful, false), (offResult.Outcome, offResult.Changed));
        Assert.Equal((ShutdownOutcome.Graceful, false), (unsureResult.Outcome, unsureResult.Changed));
        Assert.Contains(unsure.Diagnostics, d => d.ErrorId == ErrorIds.StalePidFile);
        Assert.False(File.Exists(Path.Combine(HookScripts.Out(_root), "ran")));
    }

    [Fact]
    public async Task The_status_file_shows_hook_progress_while_a_hook_runs()
    {
        _root.Launch("progress", "graceful");
        var go = Path.Combine(HookScripts.Out(_root), "go");
        HookScripts.Register(_root, "waiting", $"while [ ! -f '{go}' ]; do sleep 0.05; done");
        HookScripts.Register(_root, "post", "exit 0", stage: HookStage.PostStop);

        var stopping = StopAsync("progress");
        StatusDocument? seen = null;
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until && seen?.RunningHooks != "waiting")
        {
            await Task.Delay(20);
            seen = StatusStore.TryRead(_root.Vm("progress"));
        }

        // What Get-CastraShutdownStatus / castra status show from another session.
        var view = ShutdownStatusReader.Read(_root.Vm("progress"))!;

        File.WriteAllText(go, "");
        var (_, result) = await stopping;

        Assert.NotNull(seen);
        Assert.Equal("PreStopHooks", seen.Phase);
        Assert.Equal("waiting", seen.RunningHooks);
        Assert.Equal(2, seen.HooksTotal);
        Assert.Equal(0, seen.HooksCompleted);
        Assert.Equal(("InProgress", "PreStopHooks", "waiting", 2, 0), (view.State, view.Phase, view.RunningHooks, view.HooksTotal, view.HooksCompleted));
        var final = StatusStore.TryRead(_root.Vm("progress"))!;
        Assert.Equal((2, 2), (final.HooksTotal, final.HooksCompleted));
        Assert.Null(final.RunningHooks);
        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
    }

    [Fact]
    public async Task A_script_block_hook_runs_through_pwsh_with_an_encoded_command()
    {
        _root.Launch("ps", "graceful");
        var fakePwsh = HookScripts.Write(_root, "pwsh", $"for a in \"$@\"; do echo \"$a\"; done > '{HookScripts.Out(_root)}/pwsh-args.txt'");
        new HookStore(_root.Root).Register(new HookRegistration
        {
            Name = "psblock",
            ScriptBlock = "Export-Data -Vm $env:CASTRA_VM_NAME",
            PowerShellPath = fakePwsh,
            WorkingDirectory = _root.Path,
        });

        var (observer, _) = await StopAsync("ps");

        Assert.Equal("Succeeded", observer.For("ps").OfType<HookCompletedEvent>().Single().Status);
        var args = File.ReadAllLines(Path.Combine(HookScripts.Out(_root), "pwsh-args.txt"));
        Assert.Equal(["-NoProfile", "-NonInteractive", "-EncodedCommand"], args.Take(3));
        var script = ScriptBlockCommand.Decode(args[3]);
        Assert.Contains("Export-Data -Vm $env:CASTRA_VM_NAME", script);
        Assert.Contains("exit 1", script);
    }

    [Fact]
    public async Task The_plan_lists_the_hooks_and_counts_their_budgets_in_the_worst_case()
    {
        _root.Launch("planned", "graceful");
        HookScripts.Register(_root, "export", "exit 0", timeoutSeconds: 7);
        HookScripts.Register(_root, "notify", "exit 0", stage: HookStage.PostStop, timeoutSeconds: 3);

        var plan = (await new ShutdownPlanner(_root.Root).PlanAsync(["planned"], new ShutdownOptions())).Single();

        Assert.Contains("export (PreStop, priority 100, ≤7s)", plan.Hooks);
        Assert.Contains("notify (PostStop, priority 100, ≤3s)", plan.Hooks);
        var grace = 2 * GroupLeader.Grace.TotalMilliseconds;
        Assert.Equal(60_000 + 10_000 + 5_000 + 7_000 + 3_000 + (2 * grace), plan.WorstCaseMs);
    }
}

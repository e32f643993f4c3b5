using System.Diagnostics;
using System.Globalization;
using Castra.Events;
using Castra.Processes;
using Castra.Sessions;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Hooks;

/// <summary>
/// Process groups of hooks and sessions: only provably ours are signalled, whole groups get the drain, cancellation
/// leaves nothing running (and no zombie), and a session nobody watched is still recorded Stopped.
/// </summary>
public sealed class ProcessGroupTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private static Process StartGroupLeader(string script)
    {
        // setsid: the child leads its own group (and session), like a hook or a session does.
        var process = Process.Start(new ProcessStartInfo("setsid", ["/bin/sh", "-c", script]))!;
        var until = DateTime.UtcNow.AddSeconds(10);
        while (ProcStat.TryRead(process.Id)?.ProcessGroup != process.Id && DateTime.UtcNow < until)
        {
            Thread.Sleep(10);
        }

        return process;
    }

    private static bool Gone(int pid) => ProcStat.TryRead(pid) is null;

    [Fact]
    public void A_group_whose_number_belongs_to_another_leader_is_not_signalled()
    {
        using var stranger = StartGroupLeader("sleep 60");
        try
        {
            var start = ProcStat.TryRead(stranger.Id)!.StartTime;

            // What a recycled PID looks like: the group number is led by a process that is not the one we started.
            Assert.Empty(ProcessGroup.Members(stranger.Id, start + 1));
            Assert.Equal(0, ProcessGroup.Signal(stranger.Id, start + 1, 9));
            Assert.False(stranger.WaitForExit(300), "a process that is not ours must not be signalled");

            // The real leader's start time finds and reaches the group.
            var members = ProcessGroup.Members(stranger.Id, start);
            Assert.Contains(members, m => m.Pid == stranger.Id);
            Assert.Equal(members.Count, ProcessGroup.Signal(stranger.Id, start, 9));
            Assert.True(stranger.WaitForExit(10_000));
        }
        finally
        {
            if (!stranger.HasExited)
            {
                stranger.Kill();
            }
        }
    }

    [Fact]
    public async Task Polling_fallback_waits_without_a_deadline_for_an_infinite_timeout()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", ["0.4"]))!;
        using var polling = TrackedProcess.Open(child.Id, allowPidfd: false)!;
        Assert.Equal("polling", polling.Mechanism);
        var watch = Stopwatch.StartNew();

        var exited = await polling.WaitForExitAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exited);
        Assert.True(watch.ElapsedMilliseconds >= 200, $"returned after {watch.ElapsedMilliseconds} ms while the process was still running");
        Assert.True(polling.HasExited);
    }

    [Fact]
    public async Task The_drain_period_covers_the_whole_session_group_not_just_its_leader()
    {
        _root.Launch("web", "graceful");
        var evidence = Path.Combine(HookScripts.Out(_root), "child-finished");
        var ready = Path.Combine(HookScripts.Out(_root), "child-ready");

        // The leader dies on SIGINT at once; its child (python: a background child of sh ignores SIGINT, python may
        // still handle it) needs half a second to finish its work on SIGINT.
        var child = HookScripts.Write(_root, "child.py", "");
        File.WriteAllText(child, $"""
            import signal, sys, time
            def done(*_):
                time.sleep(0.5)
                open("{evidence}", "w").write("finished\n")
                sys.exit(0)
            signal.signal(signal.SIGINT, done)
            open("{ready}", "w").write("ready\n")
            while True:
                time.sleep(0.05)
            """);
        var leader = HookScripts.Write(_root, "leader.sh", $"python3 '{child}' &\nexec sleep 1000");
        var session = await new SessionManager(_root.Root).StartAsync("web", leader, [], _root.Path);
        await HookScripts.WaitForFileAsync(ready, TimeSpan.FromSeconds(30));

        var observer = new RecordingObserver();
        await new ShutdownEngine(_root.Root).StopAsync(["web"], new ShutdownOptions { DrainTimeout = TimeSpan.FromSeconds(20) }, observer);

        Assert.True(File.Exists(evidence), "the session's child was cut short instead of getting the drain period");
        var drained = observer.For("web").OfType<HookCompletedEvent>().Single(e => e.HookName == SessionDrainer.StepName);
        Assert.Equal("Succeeded", drained.Status);
        var record = Assert.Single(new SessionManager(_root.Root).List("web"));
        Assert.Equal(("Stopped", "SIGINT"), (record.Status, record.InterruptedBy));
        Assert.Empty(ProcessGroup.Members(session.Pid, session.ProcessStartTime));
    }

    [Fact]
    public async Task Cancelling_a_shutdown_while_a_hook_runs_kills_its_group_and_reaps_it()
    {
        _root.Launch("web", "graceful");
        var pids = Path.Combine(HookScripts.Out(_root), "pids");
        HookScripts.Register(_root, "long-export", $"sleep 1000 &\necho \"$$ $!\" > '{pids}'\nsleep 1000", timeoutSeconds: 600);
        using var cancel = new CancellationTokenSource();

        var stopping = new ShutdownEngine(_root.Root).StopAsync(["web"], new ShutdownOptions(), new RecordingObserver(), cancel.Token);
        await HookScripts.WaitForFileAsync(pids, TimeSpan.FromSeconds(30));
        await Task.Delay(100);
        cancel.Cancel();
        var result = (await stopping.WaitAsync(TimeSpan.FromSeconds(60))).Single();

        Assert.Equal(ShutdownOutcome.Cancelled, result.Outcome);
        var both = File.ReadAllText(pids).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!both.All(Gone) && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }

        // Not even a zombie: the hook itself is our child and must have been reaped.
        Assert.True(Gone(both[0]), $"hook {both[0]}: {ProcStat.TryRead(both[0])}");
        Assert.True(Gone(both[1]) || ProcStat.TryRead(both[1]) is { IsDead: true }, $"its child {both[1]} survived");
    }

    [Fact]
    public async Task A_hook_that_succeeds_but_leaves_work_behind_has_it_terminated()
    {
        _root.Launch("web", "graceful");
        var pidFile = Path.Combine(HookScripts.Out(_root), "left.pid");
        HookScripts.Register(_root, "sloppy", $"sleep 1000 &\necho $! > '{pidFile}'\nexit 0");

        var observer = new RecordingObserver();
        await new ShutdownEngine(_root.Root).StopAsync(["web"], new ShutdownOptions(), observer);

        var completed = observer.For("web").OfType<HookCompletedEvent>().Single(e => e.HookName == "sloppy");
        Assert.Equal("Succeeded", completed.Status);
        Assert.Equal("processes it left running were terminated", completed.Message);
        var left = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.True(ProcStat.TryRead(left) is null or { IsDead: true }, $"{left} outlived its hook");
    }

    [Fact]
    public async Task A_session_that_ended_with_nobody_watching_is_recorded_stopped_when_seen()
    {
        _root.Launch("web", "graceful");
        using var ended = Process.Start(new ProcessStartInfo("true"))!;
        var start = ProcStat.TryRead(ended.Id)?.StartTime;
        ended.WaitForExit();
        var vm = _root.Vm("web");
        SessionStore.Write(vm, new VmSession
        {
            RunId = "20261127T000000Z-deadbeef",
            VmName = "web",
            Pid = ended.Id,
            Status = "Running",
            StartedAt = DateTime.UtcNow.AddMinutes(-1),
            Command = "true",
            Executable = "/bin/true",
            Arguments = [],
            LogPath = Path.Combine(SessionStore.Directory(vm), "20261127T000000Z-deadbeef.log"),
            ProcessStartTime = start ?? 1,
            BootId = HostClock.BootId,
        });

        // The plan (-WhatIf, --dry-run) only reads: it leaves the record as it found it.
        var plan = Assert.Single(await new ShutdownPlanner(_root.Root).PlanAsync(["web"], new ShutdownOptions()));
        Assert.DoesNotContain(SessionDrainer.StepName, plan.Hooks);
        Assert.Equal("Running", Assert.Single(SessionStore.ReadAll(vm)).Status);

        var listed = Assert.Single(new SessionManager(_root.Root).List("web"));

        Assert.Equal("Stopped", listed.Status);
        Assert.NotNull(listed.StoppedAt);
        var onDisk = Assert.Single(SessionStore.ReadAll(vm));
        Assert.Equal(("Stopped", listed.StoppedAt), (onDisk.Status, onDisk.StoppedAt));
    }
}

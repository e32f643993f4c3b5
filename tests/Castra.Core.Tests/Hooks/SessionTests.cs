using Castra.Errors;
using Castra.Events;
using Castra.Hooks;
using Castra.Launch;
using Castra.Sessions;
using Castra.Shutdown;
using Castra.Tests.Support;

namespace Castra.Tests.Hooks;

/// <summary>Guest sessions: started as process groups, drained by a shutdown (SIGINT first), refused during one.</summary>
public sealed class SessionTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private SessionManager Sessions => new(_root.Root);

    private async Task<(RecordingObserver Observer, VmShutdownResult Result)> StopAsync(string name, ShutdownOptions? options = null)
    {
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync([name], options ?? new ShutdownOptions(), observer);
        return (observer, results.Single());
    }

    /// <summary>A session that records the signals it gets and exits on SIGINT (or ignores it).</summary>
    private string SessionScript(bool honourInt)
    {
        var signals = Path.Combine(HookScripts.Out(_root), "signals");
        var onInt = honourInt ? $"echo INT >> '{signals}'; exit 0" : $"echo INT >> '{signals}'";
        return HookScripts.Write(_root, honourInt ? "job.sh" : "stubborn-job.sh",
            $"trap \"{onInt}\" INT\ntrap \"echo TERM >> '{signals}'; exit 143\" TERM\necho job running\nwhile :; do sleep 0.05; done");
    }

    private string[] Signals() => File.ReadAllLines(Path.Combine(HookScripts.Out(_root), "signals"));

    [Fact]
    public async Task A_started_session_is_recorded_running_with_its_output_in_the_vm_directory()
    {
        _root.Launch("web", "graceful");

        var session = await Sessions.StartAsync("web", SessionScript(true), [], _root.Path);

        Assert.Equal("Running", session.Status);
        Assert.Equal("web", session.VmName);
        Assert.True(session.Pid > 0);
        Assert.StartsWith(Path.Combine(_root.Vm("web").Directory, "sessions"), session.LogPath);
        var listed = Assert.Single(Sessions.List("web"));
        Assert.Equal((session.RunId, "Running"), (listed.RunId, listed.Status));
        Assert.Equal(session.Pid, ProcFs.ProcessGroupOf(session.Pid));
        await HookScripts.WaitForFileAsync(session.LogPath, TimeSpan.FromSeconds(10));
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!File.ReadAllText(session.LogPath).Contains("job running", StringComparison.Ordinal) && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }

        Assert.Contains("job running", File.ReadAllText(session.LogPath));
    }

    [Fact]
    public async Task Shutdown_interrupts_sessions_with_SIGINT_first_then_stops_the_vm()
    {
        var vm = _root.Launch("web", "graceful");
        var session = await Sessions.StartAsync("web", SessionScript(true), [], _root.Path);
        HookScripts.Register(_root, "pre", "exit 0");

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(vm.IsAlive);
        Assert.Equal(["INT"], Signals());
        var events = observer.For("web");
        Assert.Equal(["ShutdownRequested", "HookStarted", "HookCompleted", "HookStarted", "HookCompleted", "CooperativeAttempted"], events.Take(6).Select(e => e.Type));
        var drain = Assert.IsType<HookStartedEvent>(events[1]);
        Assert.Equal(("castra.drain-sessions", "PreStop", 0), (drain.HookName, drain.Stage, drain.Priority));
        var drained = Assert.IsType<HookCompletedEvent>(events[2]);
        Assert.Equal("Succeeded", drained.Status);
        Assert.Contains("1 ended after SIGINT", drained.Message);
        var complete = events.OfType<ShutdownCompleteEvent>().Single();
        Assert.Equal(1, complete.SessionsInterrupted);
        Assert.Equal(1, complete.HooksSucceeded); // Castra's own step is not counted as a hook

        var final = await Sessions.WaitAsync(session);
        Assert.NotNull(final);
        Assert.Equal("Stopped", final.Status);
        Assert.NotNull(final.StoppedAt);
        Assert.Equal("SIGINT", final.InterruptedBy);
        Assert.Equal(0, final.ExitCode);
        Assert.Equal("Stopped", Sessions.List("web").Single().Status);
    }

    [Fact]
    public async Task A_session_that_ignores_SIGINT_gets_SIGTERM_after_the_drain_period()
    {
        _root.Launch("db", "graceful");
        var session = await Sessions.StartAsync("db", SessionScript(false), [], _root.Path);

        var (observer, _) = await StopAsync("db", new ShutdownOptions { DrainTimeout = TimeSpan.FromSeconds(0.3) });

        Assert.Equal(["INT", "TERM"], Signals());
        var drained = observer.For("db").OfType<HookCompletedEvent>().Single();
        Assert.Equal("TimedOut", drained.Status);
        Assert.Contains("needed SIGTERM", drained.Message);
        var final = Sessions.List("db").Single();
        Assert.Equal(("Stopped", "SIGTERM"), (final.Status, final.InterruptedBy));
        Assert.NotNull(final.StoppedAt);
        Assert.Equal(1, observer.For("db").OfType<ShutdownCompleteEvent>().Single().SessionsInterrupted);
        Assert.Equal(143, (await Sessions.WaitAsync(session))!.ExitCode); // its TERM trap's exit
    }

    [Fact]
    public async Task Starting_a_session_or_the_vm_is_refused_while_it_shuts_down()
    {
        _root.Launch("busy", "graceful");
        var go = Path.Combine(HookScripts.Out(_root), "go");
        HookScripts.Register(_root, "slow", $"while [ ! -f '{go}' ]; do sleep 0.05; done");
        var started = new TaskCompletionSource();
        var observer = new RecordingObserver();
        observer.WhenEvent(e =>
        {
            if (e is HookStartedEvent)
            {
                started.TrySetResult();
            }
        });
        var stopping = new ShutdownEngine(_root.Root).StopAsync(["busy"], new ShutdownOptions(), observer);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var session = await Assert.ThrowsAsync<CastraException>(() => Sessions.StartAsync("busy", "/bin/true", [], _root.Path));
        var launch = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(_root.Root).StartAsync("busy", new LaunchOptions { Kernel = "/bin/true" }));

        File.WriteAllText(go, "");
        await stopping;
        Assert.Equal(ErrorIds.VmShuttingDown, session.ErrorId);
        Assert.Contains("no session can be started", session.Message);
        Assert.Equal(ErrorIds.VmShuttingDown, launch.ErrorId);
    }

    [Fact]
    public async Task Sessions_need_a_running_vm_and_a_program_that_exists()
    {
        Directory.CreateDirectory(_root.Vm("off").Directory);
        _root.Launch("on", "graceful");

        Assert.Equal(ErrorIds.VmNotRunning, (await Assert.ThrowsAsync<CastraException>(() => Sessions.StartAsync("off", "/bin/true", []))).ErrorId);
        Assert.Equal(ErrorIds.VmNotFound, (await Assert.ThrowsAsync<CastraException>(() => Sessions.StartAsync("ghost", "/bin/true", []))).ErrorId);
        Assert.Equal(ErrorIds.InvalidSessionCommand, (await Assert.ThrowsAsync<CastraException>(() => Sessions.StartAsync("on", "no-such-program-xyz", []))).ErrorId);
        Assert.Empty(Sessions.List());
    }

    [Fact]
    public async Task A_session_that_ends_by_itself_is_recorded_with_its_exit_code()
    {
        _root.Launch("vm1", "graceful");

        var session = await Sessions.StartAsync("vm1", "/bin/sh", ["-c", "echo done; exit 7"], _root.Path);
        var final = await Sessions.WaitAsync(session).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(("Stopped", 7), (final!.Status, final.ExitCode!.Value));
        Assert.Null(final.InterruptedBy);
        Assert.Equal("/bin/sh -c 'echo done; exit 7'", final.Command);
        var (observer, _) = await StopAsync("vm1");
        Assert.DoesNotContain(observer.For("vm1"), e => e is HookStartedEvent);
    }
}

internal static class ProcFs
{
    /// <summary>Field 5 of /proc/PID/stat: the process group.</summary>
    public static int ProcessGroupOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture);
    }
}

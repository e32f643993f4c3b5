using System.Text.Json;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>castra hook, castra session and the hook/session options of castra down, run as a user runs them.</summary>
public sealed class CliHookSessionTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] args) => CliRunner.RunAsync([.. args, "--home", _root.Path]);

    /// <summary>Runs castra with --home before "--", so everything after it stays the program's.</summary>
    private Task<(int ExitCode, string Stdout, string Stderr)> CastraWithProgram(string[] args, params string[] program) =>
        CliRunner.RunAsync([.. args, "--home", _root.Path, "--", .. program]);

    private static List<JsonElement> JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public async Task Hook_add_list_refuse_duplicate_force_replace_and_remove()
    {
        var (added, addOut, addErr) = await CastraWithProgram(["hook", "add", "notify", "--json"], "/bin/echo", "first");
        Assert.True(added == 0, addErr);
        var hook = Assert.Single(JsonLines(addOut));
        Assert.Equal(("notify", "*", "PreStop", 100, 5000), (hook.GetProperty("Name").GetString(), hook.GetProperty("VmName").GetString(), hook.GetProperty("Stage").GetString(), hook.GetProperty("Priority").GetInt32(), hook.GetProperty("TimeoutMs").GetInt64()));

        var (_, listOut, _) = await Run("hook", "list", "--json");
        var listed = Assert.Single(JsonLines(listOut));
        Assert.Equal("/bin/echo", listed.GetProperty("Executable").GetString());
        Assert.Equal(["first"], listed.GetProperty("Arguments").EnumerateArray().Select(a => a.GetString()));

        var (duplicate, _, duplicateErr) = await CastraWithProgram(["hook", "add", "notify"], "/bin/echo", "second");
        Assert.Equal(1, duplicate);
        Assert.Contains("[CastraHookExists]", duplicateErr);

        var (forced, _, forcedErr) = await CastraWithProgram(["hook", "add", "notify", "--force", "--stage", "poststop", "--priority", "50", "--timeout", "2.5"], "/bin/echo", "second");
        Assert.True(forced == 0, forcedErr);
        var (_, replacedOut, _) = await Run("hook", "list", "--json");
        var replaced = Assert.Single(JsonLines(replacedOut));
        Assert.Equal(("PostStop", 50, 2500), (replaced.GetProperty("Stage").GetString(), replaced.GetProperty("Priority").GetInt32(), replaced.GetProperty("TimeoutMs").GetInt64()));
        Assert.Equal(["second"], replaced.GetProperty("Arguments").EnumerateArray().Select(a => a.GetString()));

        var (_, table, _) = await Run("hook", "list");
        Assert.Contains("NAME", table);
        Assert.Contains("notify", table);
        Assert.Contains("/bin/echo second", table);

        var (removed, _, removeErr) = await Run("hook", "remove", "notify");
        Assert.True(removed == 0, removeErr);
        var (_, emptyOut, _) = await Run("hook", "list", "--json");
        Assert.Empty(emptyOut.Trim());

        var (missing, _, missingErr) = await Run("hook", "remove", "notify");
        Assert.Equal(3, missing);
        Assert.Contains("[CastraHookNotFound]", missingErr);
    }

    [Fact]
    public async Task Hook_add_refuses_a_timeout_that_would_round_to_0_ms_as_a_usage_error()
    {
        var (exit, _, stderr) = await CastraWithProgram(["hook", "add", "x", "--timeout", "0.0004"], "/bin/true");

        Assert.Equal(2, exit);
        Assert.Contains("[CastraInvalidTimeout]", stderr);
        var (_, listOut, _) = await Run("hook", "list", "--json");
        Assert.Empty(listOut.Trim());
    }

    [Fact]
    public async Task Arguments_after_the_double_dash_are_kept_verbatim()
    {
        string[] program = ["/bin/sh", "-c", "exit 3", "--json", "--home", "-h", "--", "@nofile"];
        var (exit, stdout, stderr) = await CastraWithProgram(["hook", "add", "verbatim", "--json"], program);

        Assert.True(exit == 0, stderr);
        var hook = Assert.Single(JsonLines(stdout));
        Assert.Equal("/bin/sh", hook.GetProperty("Executable").GetString());
        Assert.Equal(program[1..], hook.GetProperty("Arguments").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task Hook_scopes_filter_the_list_and_an_ambiguous_remove_is_a_usage_error()
    {
        await CastraWithProgram(["hook", "add", "flush"], "/bin/true");
        await CastraWithProgram(["hook", "add", "flush", "--vm", "db"], "/bin/true");

        var (_, dbOnly, _) = await Run("hook", "list", "--vm", "db", "--json");
        Assert.Equal("db", Assert.Single(JsonLines(dbOnly)).GetProperty("VmName").GetString());

        var (ambiguous, _, ambiguousErr) = await Run("hook", "remove", "flush");
        Assert.Equal(2, ambiguous);
        Assert.Contains("[CastraHookAmbiguous]", ambiguousErr);

        var (removed, _, _) = await Run("hook", "remove", "flush", "--vm", "*");
        Assert.Equal(0, removed);
        var (_, left, _) = await Run("hook", "list", "--json");
        Assert.Equal("db", Assert.Single(JsonLines(left)).GetProperty("VmName").GetString());
    }

    [Theory]
    [InlineData("CastraInvalidHook", "reserved", "--priority", "5")]
    [InlineData("CastraInvalidHook", "1000", "--priority", "1001")]
    [InlineData("CastraInvalidTimeout", "86400", "--timeout", "0")]
    [InlineData("CastraInvalidTimeout", "86400", "--timeout", "NaN")]
    [InlineData("CastraInvalidHook", "'*'", "--vm", "../x")]
    public async Task Invalid_hook_input_is_a_usage_error_and_registers_nothing(string errorId, string mentions, params string[] options)
    {
        var (exit, _, stderr) = await CastraWithProgram(["hook", "add", "bad", .. options], "/bin/true");

        Assert.Equal(2, exit);
        Assert.Contains($"[{errorId}]", stderr);
        Assert.Contains(mentions, stderr);
        var (_, list, _) = await Run("hook", "list", "--json");
        Assert.Empty(list.Trim());
    }

    [Theory]
    [InlineData("castra.mine", "/bin/true", "CastraInvalidHook")]
    [InlineData("ok", "no-such-program-anywhere", "CastraHookExecutableNotFound")]
    public async Task Reserved_names_and_missing_programs_are_usage_errors(string name, string program, string errorId)
    {
        var (exit, _, stderr) = await CastraWithProgram(["hook", "add", name], program);
        Assert.Equal(2, exit);
        Assert.Contains($"[{errorId}]", stderr);
    }

    [Fact]
    public async Task Hook_add_without_a_program_is_a_usage_error()
    {
        var (exit, _, stderr) = await Run("hook", "add", "nothing");
        Assert.Equal(2, exit);
        Assert.Contains("after --", stderr);
    }

    [Fact]
    public async Task Down_with_hook_error_stop_and_a_failing_PreStop_hook_leaves_the_vm_running()
    {
        var vm = _root.Launch("web", "graceful");
        await CastraWithProgram(["hook", "add", "check"], "/bin/sh", "-c", "exit 3");

        var (exit, stdout, stderr) = await Run("down", "web", "--hook-error", "stop", "--json");

        Assert.Equal(1, exit);
        Assert.Contains("[CastraHookFailed]", stderr);
        var events = JsonLines(stdout);
        var hook = events.Single(e => e.GetProperty("Type").GetString() == "HookCompleted" && e.GetProperty("HookName").GetString() == "check");
        Assert.Equal("Failed", hook.GetProperty("Status").GetString());
        Assert.Equal(3, hook.GetProperty("ExitCode").GetInt32());
        var complete = events[^1];
        Assert.Equal("ShutdownComplete", complete.GetProperty("Type").GetString());
        Assert.Equal("Failed", complete.GetProperty("Outcome").GetString());
        Assert.Equal(1, complete.GetProperty("HooksFailed").GetInt32());
        Assert.DoesNotContain(events, e => e.GetProperty("Type").GetString() == "CooperativeAttempted");
        Assert.True(vm.IsAlive);

        // The default (continue) reports the same failure and stops the VM.
        var (continued, text, _) = await Run("down", "web", "--hook-error", "continue");
        Assert.Equal(0, continued);
        Assert.Contains("HookCompleted: PreStop hook check failed", text);
        Assert.Contains("log: ", text);
        Assert.Contains("hooks: 0 succeeded, 1 failed, 0 timed out", text);
        await vm.WaitUntilGoneAsync(TimeSpan.FromSeconds(30));
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public async Task Down_prints_hook_events_and_the_saved_state()
    {
        _root.Launch("app", "graceful");
        await CastraWithProgram(["hook", "add", "before"], "/bin/true");
        await CastraWithProgram(["hook", "add", "after", "--stage", "PostStop"], "/bin/true");

        var (_, plan, _) = await Run("down", "app", "--dry-run");
        Assert.Contains("    hooks: before (PreStop, priority 100, ≤5s); after (PostStop, priority 100, ≤5s)", plan);

        var (exit, stdout, stderr) = await Run("down", "app", "--save-state");

        Assert.True(exit == 0, stderr);
        Assert.Contains("HookStarted: PreStop hook before started (priority 100, up to 5s)", stdout);
        Assert.Contains("HookCompleted: PreStop hook before succeeded", stdout);
        Assert.Contains("HookCompleted: PostStop hook after succeeded", stdout);
        Assert.Contains("hooks: 2 succeeded, 0 failed, 0 timed out", stdout);
        var saved = stdout.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("state saved: ", StringComparison.Ordinal))["state saved: ".Length..];
        Assert.True(File.Exists(saved), saved);
        Assert.StartsWith(_root.Vm("app").Directory, saved);
    }

    [Theory]
    [InlineData("--drain-timeout", "-1")]
    [InlineData("--drain-timeout", "x")]
    [InlineData("--hook-error", "maybe")]
    public async Task Bad_hook_and_drain_options_of_down_are_usage_errors(string option, string value)
    {
        var vm = _root.Launch("kept", "graceful");
        var (exit, _, stderr) = await Run("down", "kept", option, value);
        Assert.Equal(2, exit);
        Assert.NotEmpty(stderr);
        Assert.True(vm.IsAlive);
    }

    [Fact]
    public async Task A_detached_session_is_listed_running_and_down_interrupts_it()
    {
        var vm = _root.Launch("web", "graceful");

        var (started, startOut, startErr) = await CastraWithProgram(["session", "start", "web", "--detach", "--json"], "sleep", "1000");
        Assert.True(started == 0, startErr);
        var session = Assert.Single(JsonLines(startOut));
        var runId = session.GetProperty("RunId").GetString();
        Assert.Equal("Running", session.GetProperty("Status").GetString());
        Assert.Equal("sleep 1000", session.GetProperty("Command").GetString());

        var (_, listOut, _) = await Run("session", "list", "--json");
        var listed = Assert.Single(JsonLines(listOut));
        Assert.Equal((runId, "web", "Running"), (listed.GetProperty("RunId").GetString(), listed.GetProperty("VmName").GetString(), listed.GetProperty("Status").GetString()));

        var (_, table, _) = await Run("session", "list", "web");
        Assert.Contains("RUNID", table);
        Assert.Contains(runId!, table);

        var (down, downOut, downErr) = await Run("down", "web", "--json", "--drain-timeout", "30");
        Assert.True(down == 0, downErr);
        var complete = JsonLines(downOut)[^1];
        Assert.Equal("ShutdownComplete", complete.GetProperty("Type").GetString());
        Assert.Equal(1, complete.GetProperty("SessionsInterrupted").GetInt32());
        Assert.False(vm.IsAlive);

        var (_, afterOut, _) = await Run("session", "list", "web", "--json");
        var after = Assert.Single(JsonLines(afterOut));
        Assert.Equal("Stopped", after.GetProperty("Status").GetString());
        Assert.Equal("SIGINT", after.GetProperty("InterruptedBy").GetString());
    }

    [Fact]
    public async Task A_foreground_session_shows_its_output_and_returns_its_exit_code()
    {
        _root.Launch("web", "graceful");

        var (exit, stdout, stderr) = await CastraWithProgram(["session", "start", "web"], "/bin/sh", "-c", "echo from-the-session; exit 7");

        Assert.Equal(7, exit);
        Assert.Contains("from-the-session", stdout);
        Assert.Contains("castra session: started ", stderr);
        Assert.Contains("ended with exit code 7", stderr);

        var (_, listOut, _) = await Run("session", "list", "web", "--json");
        var session = Assert.Single(JsonLines(listOut));
        Assert.Equal(("Stopped", 7), (session.GetProperty("Status").GetString(), session.GetProperty("ExitCode").GetInt32()));
        Assert.Contains(session.GetProperty("RunId").GetString()!, stderr);
    }

    [Fact]
    public async Task A_foreground_session_with_json_prints_its_final_record()
    {
        _root.Launch("web", "graceful");

        var (exit, stdout, _) = await CastraWithProgram(["session", "start", "web", "--json"], "/bin/sh", "-c", "echo not-on-stdout; exit 0");

        Assert.Equal(0, exit);
        var session = Assert.Single(JsonLines(stdout));
        Assert.Equal(("Stopped", 0), (session.GetProperty("Status").GetString(), session.GetProperty("ExitCode").GetInt32()));
    }

    [Fact]
    public async Task Signals_to_a_foreground_session_are_passed_on_one_step_at_a_time()
    {
        _root.Launch("web", "graceful");
        using var cli = CliRunner.Start("session", "start", "web", "--home", _root.Path, "--",
            "/bin/sh", "-c", "trap 'echo got-INT' INT; trap 'echo got-TERM; exit 5' TERM; echo ready; while :; do sleep 0.05; done");
        var stderr = cli.StandardError.ReadToEndAsync();
        await ReadUntilAsync(cli.StandardOutput, "ready");

        Assert.Equal(0, Castra.Native.Libc.kill(cli.Id, Castra.Native.Libc.SIGINT));
        await ReadUntilAsync(cli.StandardOutput, "got-INT");
        Assert.False(cli.HasExited);
        Assert.Equal(0, Castra.Native.Libc.kill(cli.Id, Castra.Native.Libc.SIGINT));
        var rest = await cli.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Contains("got-TERM", rest);
        Assert.Equal(5, cli.ExitCode);
        var errors = await stderr;
        Assert.Contains("sent SIGINT to session", errors);
        Assert.Contains("sent SIGTERM to session", errors);
    }

    [Fact]
    public async Task Session_start_refuses_unknown_stopped_vms_and_missing_programs()
    {
        Directory.CreateDirectory(_root.Vm("off").Directory);
        _root.Launch("web", "graceful");

        var (unknown, _, unknownErr) = await CastraWithProgram(["session", "start", "ghost"], "/bin/true");
        Assert.Equal(3, unknown);
        Assert.Contains("[CastraVmNotFound]", unknownErr);

        var (stopped, _, stoppedErr) = await CastraWithProgram(["session", "start", "off", "--detach"], "/bin/true");
        Assert.Equal(1, stopped);
        Assert.Contains("[CastraVmNotRunning]", stoppedErr);

        var (invalid, _, invalidErr) = await CastraWithProgram(["session", "start", "../x"], "/bin/true");
        Assert.Equal(3, invalid);
        Assert.Contains("[CastraInvalidVmName]", invalidErr);

        var (missing, _, missingErr) = await CastraWithProgram(["session", "start", "web"], "no-such-program-anywhere");
        Assert.Equal(2, missing);
        Assert.Contains("[CastraInvalidSessionCommand]", missingErr);

        var (none, _, noneErr) = await Run("session", "start", "web");
        Assert.Equal(2, none);
        Assert.Contains("after --", noneErr);

        var (_, list, _) = await Run("session", "list", "--json");
        Assert.Empty(list.Trim());
    }

    [Fact]
    public async Task Session_start_is_refused_while_the_vm_shuts_down()
    {
        _root.Launch("busy", "graceful");
        var go = Path.Combine(HookScripts.Out(_root), "go");
        var waiting = Path.Combine(HookScripts.Out(_root), "waiting");
        await CastraWithProgram(["hook", "add", "slow", "--timeout", "120"], "/bin/sh", "-c", $"touch '{waiting}'; while [ ! -f '{go}' ]; do sleep 0.05; done");
        var down = CliRunner.RunAsync("down", "busy", "--home", _root.Path);
        await HookScripts.WaitForFileAsync(waiting, TimeSpan.FromSeconds(60));

        var (exit, _, stderr) = await CastraWithProgram(["session", "start", "busy", "--detach"], "/bin/true");
        var (_, status, _) = await Run("status", "busy");
        var (_, statusJson, _) = await Run("status", "busy", "--json");

        await File.WriteAllTextAsync(go, "");
        Assert.Equal(0, (await down).ExitCode);
        Assert.Equal(1, exit);
        Assert.Contains("[CastraVmShuttingDown]", stderr);

        // Another session sees which hook the shutdown is waiting for.
        Assert.Contains("phase PreStopHooks, hooks 0/1 done, running slow", status);
        var view = Assert.Single(JsonLines(statusJson));
        Assert.Equal(("InProgress", "slow", 1), (view.GetProperty("State").GetString(), view.GetProperty("RunningHooks").GetString(), view.GetProperty("HooksTotal").GetInt32()));
    }

    [Fact]
    public async Task Session_list_reports_unknown_vms_with_exit_code_3()
    {
        _root.Launch("web", "graceful");
        var (exit, stdout, stderr) = await Run("session", "list", "web", "ghost", "--json");
        Assert.Equal(3, exit);
        Assert.Empty(stdout.Trim());
        Assert.Contains("[CastraVmNotFound]", stderr);
    }

    private static async Task ReadUntilAsync(StreamReader reader, string text)
    {
        string? line;
        do
        {
            line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        while (line is not null && !line.Contains(text, StringComparison.Ordinal));

        Assert.NotNull(line);
    }
}

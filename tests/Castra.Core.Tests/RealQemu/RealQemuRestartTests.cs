using System.Text.Json;
using Castra.Errors;
using Castra.Native;
using Castra.Tests.Support;

namespace Castra.Tests.RealQemu;

/// <summary>
/// castra up NAME (again from vm.json), castra restart and castra wait, end to end with the native CLI against one real
/// guest (agent mode, with its agent channel, so the wait includes guest-ping), reused across the steps.
/// </summary>
[Collection(RealQemuGroup.Name)]
public sealed class RealQemuRestartTests : IDisposable
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

    private Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] args) => CliRunner.RunAsync([.. args, "--home", _root.Path]);

    private static JsonElement[] JsonLines(string stdout) =>
        [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    [Fact]
    public async Task Up_wait_restart_and_up_again_from_the_recorded_definition()
    {
        var up = await Run("up", "web", "--kernel", RealGuest.Kernel, "--initrd", RealGuest.Initrd, "--append", "console=ttyS0 quiet castra.mode=agent",
            "--memory", "128", "--accel", "tcg", "--agent", "--json");
        Assert.True(up.ExitCode == 0, up.Stderr);
        var firstPid = JsonLines(up.Stdout)[0].GetProperty("Pid").GetInt32();

        // Ready: QMP running, the agent answering guest-ping, and the marker the guest prints once it will react.
        var wait = await Run("wait", "web", "--for-marker", "CASTRA-READY", "--json");
        Assert.True(wait.ExitCode == 0, wait.Stdout + wait.Stderr);
        var ready = JsonLines(wait.Stdout)[0];
        Assert.True(ready.GetProperty("Ready").GetBoolean());
        Assert.Equal("QMP running, guest agent ping, marker 'CASTRA-READY'", ready.GetProperty("WaitedFor").GetString());
        Assert.Contains("CASTRA-READY agent", RealGuest.SerialLog(_root.Vm("web")), StringComparison.Ordinal);

        // A marker that never comes: exit 1 at the timeout, saying what was missing.
        var timedOut = await Run("wait", "web", "--for-marker", "NEVER-PRINTED", "--timeout", "0.5");
        Assert.Equal(1, timedOut.ExitCode);
        Assert.Contains("web: NOT ready after", timedOut.Stdout, StringComparison.Ordinal);
        Assert.Contains("the marker 'NEVER-PRINTED' has not appeared", timedOut.Stdout, StringComparison.Ordinal);

        // Running already: refused, nothing changed.
        var again = await Run("up", "web");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains(ErrorIds.VmAlreadyRunning, again.Stderr, StringComparison.Ordinal);

        // One stream: the whole graceful shutdown, then Started with the same ShutdownId and the next Sequence.
        var restart = await Run("restart", "web", "--json");
        Assert.True(restart.ExitCode == 0, restart.Stderr);
        var events = JsonLines(restart.Stdout);
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete", "Started"], events.Select(e => e.GetProperty("Type").GetString()));
        Assert.Equal("Graceful", events[3].GetProperty("Outcome").GetString());
        Assert.Equal(5, events[4].GetProperty("Sequence").GetInt32());
        Assert.Equal(events[0].GetProperty("ShutdownId").GetString(), events[4].GetProperty("ShutdownId").GetString());
        Assert.NotEqual(firstPid, events[4].GetProperty("Pid").GetInt32());
        Assert.True(events[4].GetProperty("StartMs").GetInt64() >= 0);

        // The guest boots again (serial.log is a new one: the marker is this boot's).
        wait = await Run("wait", "web", "--for-marker", "CASTRA-READY");
        Assert.True(wait.ExitCode == 0, wait.Stdout + wait.Stderr);

        // Stopped, then castra up NAME with nothing else: the recorded launch (with its agent channel) again.
        var down = await Run("down", "web");
        Assert.True(down.ExitCode == 0, down.Stderr);
        up = await Run("up", "web", "--json");
        Assert.True(up.ExitCode == 0, up.Stderr);
        var relaunched = JsonLines(up.Stdout)[0];
        Assert.Equal("Running", relaunched.GetProperty("State").GetString());
        Assert.True(relaunched.GetProperty("Agent").GetBoolean());
        wait = await Run("wait", "web", "--for-marker", "CASTRA-READY agent");
        Assert.True(wait.ExitCode == 0, wait.Stdout + wait.Stderr);
        Assert.Equal(0, (await Run("down", "web")).ExitCode);
    }

    [Fact]
    public async Task Unknown_vms_and_a_foreign_definition_are_refused_with_their_exit_codes()
    {
        Assert.Equal(3, (await Run("up", "nosuch")).ExitCode);
        Assert.Equal(3, (await Run("wait", "nosuch", "--timeout", "1")).ExitCode);
        var restart = await Run("restart", "nosuch");
        Assert.Equal(3, restart.ExitCode);
        Assert.Contains("nothing was done to it", restart.Stderr, StringComparison.Ordinal);

        var vm = _root.Vm("planted");
        Directory.CreateDirectory(vm.Directory);
        File.WriteAllText(vm.Definition, $$$"""{"Launch": {"Kernel": "{{{RealGuest.Kernel}}}", "MemoryMB": 128, "CpuCount": 1, "Qemu": "/bin/sh", "ExtraArguments": ["-c", "touch /tmp/pwned"]}}""");
        OtherUser.Own(vm.Definition);
        var up = await Run("up", "planted");
        Assert.Equal(1, up.ExitCode);
        Assert.Contains(ErrorIds.VmDefinitionUntrusted, up.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(vm.PidFile));

        Assert.Equal(2, (await Run("wait", "x", "--for-marker", "")).ExitCode);
        Assert.Equal(2, (await Run("restart")).ExitCode);
    }
}

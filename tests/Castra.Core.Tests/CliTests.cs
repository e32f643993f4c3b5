using System.Text.Json;
using Castra.Events;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>The castra CLI as a user runs it: output formats and documented exit codes.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void The_cli_under_test_is_the_native_binary_users_run()
    {
        // Native AOT: one ELF executable that needs no .NET runtime, with no castra.dll for `dotnet` to host beside it.
        var path = NativeCli.Path;
        using (var file = File.OpenRead(path))
        {
            var magic = new byte[4];
            file.ReadExactly(magic);
            Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, magic);
        }

        if (Environment.GetEnvironmentVariable(NativeCli.Override) is null)
        {
            Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(path)!, "castra.dll")), $"{path} has a castra.dll beside it: not a native build");
        }
    }

    [Fact]
    public async Task Down_prints_readable_lines_and_exits_zero_when_everything_stopped()
    {
        _root.Launch("web", "graceful");
        _root.Launch("db", "ignore-acpi");

        // A 2 s window: on a loaded 2-core machine the QMP handshake alone can use up 0.5 s (then the path is ChannelError).
        var (exit, stdout, stderr) = await CliRunner.RunAsync("down", "web", "db", "--home", _root.Path, "--cooperative-timeout", "2");

        Assert.True(exit == 0, stderr);
        Assert.Contains("web [1] ShutdownRequested: shutdown requested (UserRequested)", stdout);
        Assert.Contains("web [2] CooperativeAttempted: sent ACPI power button, waiting up to 2s", stdout);
        Assert.Contains("db [4] Escalation: sent SIGTERM, waiting up to 10s", stdout);
        Assert.Contains("hint: make the guest OS handle the ACPI power button", stdout);
        Assert.Contains("ShutdownComplete: Forced", stdout);
    }

    [Fact]
    public async Task Down_json_prints_one_event_per_line_with_contract_names()
    {
        _root.Launch("api", "graceful");

        var (exit, stdout, _) = await CliRunner.RunAsync("down", "--all", "--json", "--home", _root.Path, "--reason", "Maintenance", "--message", "kernel update");

        Assert.Equal(0, exit);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("ShutdownRequested", first.RootElement.GetProperty("Type").GetString());
        Assert.Equal("Maintenance", first.RootElement.GetProperty("Reason").GetString());
        Assert.Equal("kernel update", first.RootElement.GetProperty("Message").GetString());
        Assert.IsType<ShutdownCompleteEvent>(EventJson.Deserialize(lines[^1]));
    }

    [Fact]
    public async Task Unknown_vms_give_exit_code_3_and_the_others_are_still_stopped()
    {
        var vm = _root.Launch("known", "graceful");

        var (exit, _, stderr) = await CliRunner.RunAsync("down", "ghost", "known", "--home", _root.Path);

        Assert.Equal(3, exit);
        Assert.Contains("CastraVmNotFound", stderr);
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public async Task A_vm_that_could_not_be_stopped_gives_exit_code_1()
    {
        // Someone else holds the VM's lock without recording a shutdown: Castra refuses to act blindly.
        var vm = _root.Vm("locked");
        Directory.CreateDirectory(vm.Directory);
        Directory.CreateDirectory(Path.GetDirectoryName(vm.LockFile)!);
        using var held = new FileStream(vm.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        var (exit, _, stderr) = await CliRunner.RunAsync("down", "locked", "--home", _root.Path);

        Assert.Equal(1, exit);
        Assert.Contains("CastraShutdownLockBusy", stderr);
    }

    [Theory]
    [InlineData("down")]
    [InlineData("down", "a", "--all")]
    [InlineData("down", "a", "--bogus")]
    [InlineData("down", "a", "--term-timeout", "-1")]
    [InlineData("down", "a", "--cooperative-timeout", "0")]
    [InlineData("down", "a", "--reason", "Whim")]
    [InlineData("down", "a", "--kill-timeout", "abc")]
    [InlineData("down", "a", "--throttle", "-3")]
    [InlineData("down", "a", "--deadline", "x")]
    [InlineData("down", "a", "--cooperative-timeout", "NaN")]
    [InlineData("down", "a", "--cooperative-timeout", "Infinity")]
    [InlineData("down", "a", "--term-timeout", "1e20")]
    [InlineData("down", "a", "--deadline", "-Infinity")]
    [InlineData("down", "a", "--drain-timeout", "NaN")]
    [InlineData("up", "a", "--kill-timeout", "1e400")]
    [InlineData("down", "a", "--save", "--force")]
    [InlineData("down", "a", "--escalation", "hibernate")]
    [InlineData("down", "a", "--save-timeout", "0")]
    [InlineData("status", "--bogus")]
    [InlineData("frobnicate")]
    public async Task Usage_errors_give_exit_code_2(params string[] args)
    {
        var (exit, _, stderr) = await CliRunner.RunAsync([.. args, "--home", _root.Path]);
        Assert.Equal(2, exit);
        Assert.NotEmpty(stderr);
    }

    [Fact]
    public async Task Sigint_cancels_waiting_sends_nothing_further_and_exits_130()
    {
        var vm = _root.Launch("interrupted", "ignore-acpi");
        using var cli = CliRunner.Start("down", "interrupted", "--home", _root.Path, "--cooperative-timeout", "60", "--json");
        string? line;
        do
        {
            line = await cli.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        while (line is not null && !line.Contains("CooperativeAttempted"));

        Assert.Equal(0, Castra.Native.Libc.kill(cli.Id, Castra.Native.Libc.SIGINT));
        var rest = await cli.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(130, cli.ExitCode);
        Assert.Contains("\"Outcome\":\"Cancelled\"", rest);
        Assert.True(vm.IsAlive);
        Assert.Equal(0, vm.Count("signal:TERM"));
        Assert.Equal("Cancelled", Castra.State.ShutdownStatusReader.Read(_root.Vm("interrupted"))!.Outcome);
    }

    [Fact]
    public async Task Restart_of_a_vm_never_started_by_castra_names_the_command_that_starts_it()
    {
        // castra restart has no --kernel: the hint names castra up, where the options are.
        Directory.CreateDirectory(_root.Vm("byo").Directory);

        var (code, _, err) = await CliRunner.RunAsync("restart", "byo", "--home", _root.Path);

        Assert.Equal(1, code);
        Assert.Contains("CastraNoLaunchDefinition", err);
        Assert.Contains("castra up byo --kernel", err);
    }

    [Fact]
    public async Task Up_explains_bad_input_and_missing_qemu()
    {
        // A name alone starts again from vm.json: an unknown VM is exit 3, naming how to start a new one.
        var (unknown, _, unknownErr) = await CliRunner.RunAsync("up", "web", "--home", _root.Path);
        Assert.Equal(3, unknown);
        Assert.Contains("CastraVmNotFound", unknownErr);
        Assert.Contains("give --kernel or --disk", unknownErr);

        var (usage, _, usageErr) = await CliRunner.RunAsync("up", "web", "--initrd", "/bin/sh", "--home", _root.Path);
        Assert.Equal(2, usage);
        Assert.Contains("CastraInvalidLaunchOptions", usageErr);

        var (missing, _, missingErr) = await CliRunner.RunAsync("up", "web", "--kernel", "/bin/sh", "--qemu", "/nonexistent/qemu", "--home", _root.Path);
        Assert.Equal(1, missing);
        Assert.Contains("apt-get install qemu-system-x86", missingErr);

        var (badName, _, _) = await CliRunner.RunAsync("up", "../evil", "--kernel", "/bin/sh", "--home", _root.Path);
        Assert.Equal(2, badName);

        // A comma would cut QEMU's -qmp/-chardev/-drive values: a clear usage error instead of QEMU's own.
        var commaRoot = Path.Combine(_root.Path, "a,b");
        Directory.CreateDirectory(commaRoot);
        var (commaHome, _, commaHomeErr) = await CliRunner.RunAsync("up", "web", "--kernel", "/bin/sh", "--qemu", "/nonexistent/qemu", "--home", commaRoot);
        Assert.Equal(2, commaHome);
        Assert.Contains("contains a comma", commaHomeErr);
        Assert.Contains("CastraInvalidLaunchOptions", commaHomeErr);
        var commaDisk = Path.Combine(_root.Path, "disk,format=qcow2.img");
        File.WriteAllText(commaDisk, "");
        var (commaDiskExit, _, commaDiskErr) = await CliRunner.RunAsync("up", "web", "--disk", commaDisk, "--qemu", "/nonexistent/qemu", "--home", _root.Path);
        Assert.Equal(2, commaDiskExit);
        Assert.Contains(commaDisk + " contains a comma", commaDiskErr);
        Assert.False(Directory.Exists(_root.Vm("web").Directory) && File.Exists(_root.Vm("web").PidFile));
    }

    [Fact]
    public async Task An_empty_home_is_an_error_not_the_default_root()
    {
        var (exit, _, stderr) = await CliRunner.RunAsync("down", "--all", "--home", "");
        Assert.Equal(2, exit);
        Assert.Contains("state root", stderr);
    }

    [Theory]
    [InlineData("down", "--all")]
    [InlineData("ps")]
    [InlineData("status")]
    [InlineData("hook", "list")]
    [InlineData("session", "list")]
    public async Task A_state_root_that_does_not_exist_is_exit_2_naming_it_and_how_it_was_chosen(params string[] command)
    {
        var missing = Path.Combine(_root.Path, "no-such-root");

        var (exit, stdout, stderr) = await CliRunner.RunAsync([.. command, "--home", missing]);

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains(missing, stderr);
        Assert.Contains("given with --home", stderr);
        Assert.Contains("[CastraStateRootNotFound]", stderr);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task A_state_root_from_CASTRA_HOME_that_does_not_exist_says_so()
    {
        var missing = Path.Combine(_root.Path, "typo");

        var (exit, _, stderr) = await CliRunner.RunWithEnvironmentAsync(new Dictionary<string, string?> { ["CASTRA_HOME"] = missing }, "down", "--all");

        Assert.Equal(2, exit);
        Assert.Contains($"{missing} (chosen by CASTRA_HOME) does not exist", stderr);
    }

    [Fact]
    public async Task All_over_a_root_without_VMs_warns_and_exits_0()
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("down", "--all", "--home", _root.Path);

        Assert.Equal(0, exit);
        Assert.Equal("", stdout);
        Assert.Contains("nothing to stop [CastraNoVms]", stderr);
    }

    [Fact]
    public async Task Ps_lists_states()
    {
        _root.Launch("up", "graceful");
        Directory.CreateDirectory(_root.Vm("down").Directory);
        var stale = _root.Launch("stale", "graceful");
        stale.Kill();
        await stale.WaitUntilGoneAsync(TimeSpan.FromSeconds(10));

        var (exit, stdout, _) = await CliRunner.RunAsync("ps", "--json", "--home", _root.Path);

        Assert.Equal(0, exit);
        var vms = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(e => e.GetProperty("Name").GetString()!);
        Assert.Equal("Running", vms["up"].GetProperty("State").GetString());
        Assert.True(vms["up"].GetProperty("Qmp").GetBoolean());
        Assert.True(vms["up"].GetProperty("UptimeMs").GetInt64() >= 0);
        Assert.Equal("Stopped", vms["down"].GetProperty("State").GetString());
        Assert.Equal("Stale", vms["stale"].GetProperty("State").GetString());

        var (_, table, _) = await CliRunner.RunAsync("ps", "--home", _root.Path);
        Assert.Contains("NAME", table);
        Assert.Contains("Running", table);
    }

    [Fact]
    public async Task Status_explains_vms_never_shut_down_and_the_last_outcome()
    {
        _root.Launch("fresh", "graceful");
        var (_, before, _) = await CliRunner.RunAsync("status", "fresh", "--home", _root.Path);
        Assert.Contains("fresh: never shut down by Castra", before);

        await CliRunner.RunAsync("down", "fresh", "--home", _root.Path);
        var (exit, after, _) = await CliRunner.RunAsync("status", "fresh", "--home", _root.Path);
        Assert.Equal(0, exit);
        Assert.Contains("fresh: Graceful in", after);
    }
}

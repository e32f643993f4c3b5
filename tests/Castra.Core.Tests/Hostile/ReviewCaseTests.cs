using System.Diagnostics;
using System.Text.Json;
using Castra.Errors;
using Castra.Processes;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Hostile;

/// <summary>
/// Cases an adversarial review of the hostile-input work found: a VM owner's directory must not break the others'
/// plan, borrow another VM's proof, or hide a running QEMU; a damaged layout must end in a clear error, not a crash.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReviewCaseTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private async Task<(RecordingObserver Observer, IReadOnlyList<VmShutdownResult> Results)> StopAsync(ShutdownOptions options, params string[] names)
    {
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync(names, options, observer).WaitAsync(Bound);
        return (observer, results);
    }

    [Fact]
    public async Task A_refused_sessions_directory_neither_breaks_the_plan_of_other_VMs_nor_keeps_its_own_VM_running()
    {
        var evil = _root.Launch("evil");
        var good = _root.Launch("good");
        var sessions = Path.Combine(evil.Paths.Directory, "sessions");
        Directory.CreateDirectory(sessions);
        OtherUser.Own(sessions);

        var plans = await new ShutdownPlanner(_root.Root).PlanAsync(["evil", "good"], new ShutdownOptions(), TimeSpan.FromSeconds(85));
        var (observer, results) = await StopAsync(new ShutdownOptions { Deadline = TimeSpan.FromSeconds(85) }, "evil", "good");

        Assert.Equal(["Running", "Running"], plans.Select(p => p.State));
        Assert.All(results, r => Assert.Equal(ShutdownOutcome.Graceful, r.Outcome));
        Assert.False(evil.IsAlive);
        Assert.False(good.IsAlive);
        Assert.Contains(observer.Diagnostics, d => d.VmName == "evil" && d.ErrorId == ErrorIds.UnsafeStateFile && d.Message.Contains("not drained", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_hard_link_of_another_VMs_vm_json_lends_no_identity_proof()
    {
        var prod = _root.Launch("prod");
        var start = ProcStat.TryRead(prod.Pid)!.StartTime;
        File.WriteAllText(prod.Paths.Definition, JsonSerializer.Serialize(new { Name = "prod", ProcessStartTime = start, BootId = HostClock.BootId }));
        var evil = _root.Vm("evil");
        Directory.CreateDirectory(evil.Directory);
        using (var ln = Process.Start("ln", [prod.Paths.Definition, evil.Definition]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        File.WriteAllText(evil.PidFile, prod.Pid + "\n");
        OtherUser.Own(evil.Directory);

        var (_, results) = await StopAsync(new ShutdownOptions(), "evil");

        Assert.NotEqual(ShutdownOutcome.Forced, results.Single().Outcome);
        Assert.True(prod.IsAlive, "the other VM's QEMU was never signalled");
        Assert.Equal(0, prod.Count("cmd:system_powerdown"));
        Assert.DoesNotContain(prod.Records, r => r.StartsWith("signal:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pidfile_naming_a_dead_PID_does_not_hide_the_QEMU_that_serves_the_socket()
    {
        var vm = _root.Launch("web");
        using var gone = Process.Start("true");
        gone.WaitForExit();
        File.WriteAllText(vm.Paths.PidFile, gone.Id + "\n");

        var (observer, results) = await StopAsync(new ShutdownOptions(), "web");

        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
        Assert.True(results.Single().Changed);
        Assert.False(vm.IsAlive);
        Assert.Equal(1, vm.Count("cmd:system_powerdown"));
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.StalePidFile);
    }

    [Fact]
    public async Task A_QEMU_whose_socket_path_is_longer_than_sun_path_is_still_found_and_stopped()
    {
        // QEMU started in its directory with relative paths: the absolute path is over 107 bytes, the socket is not.
        using var deep = new TestStateRoot.Deep(200);
        var vm = deep.Root.Vm("web");
        Directory.CreateDirectory(vm.Directory);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(vm.QmpSocket) > VmPaths.MaxSocketPathBytes);
        using (var launcher = Process.Start(new ProcessStartInfo(FakeQemuBinary.Path, ["-daemonize", "-pidfile", "qemu.pid", "-qmp", "unix:qmp.sock,server=on,wait=off", "--fake-record", "rec"])
        {
            WorkingDirectory = vm.Directory,
        })!)
        {
            launcher.WaitForExit();
            Assert.Equal(0, launcher.ExitCode);
        }

        var pid = int.Parse(File.ReadAllText(vm.PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        File.Delete(vm.PidFile); // found through its socket only

        var observer = new RecordingObserver();
        var result = (await new ShutdownEngine(deep.Root).StopAsync(["web"], new ShutdownOptions(), observer).WaitAsync(Bound)).Single();

        Assert.Equal((ShutdownOutcome.Graceful, true), (result.Outcome, result.Changed));
        Assert.True(ProcStat.TryRead(pid) is null or { IsDead: true });
    }

    [Fact]
    public async Task A_vms_link_or_a_linked_hooks_lock_ends_in_a_clear_error_not_a_crash()
    {
        var real = Path.Combine(_root.Path, "real-vms");
        Directory.Move(_root.Root.VmsDirectory, real);
        Directory.CreateSymbolicLink(_root.Root.VmsDirectory, real);
        File.CreateSymbolicLink(Path.Combine(_root.Path, "hooks.json.lock"), "/etc/passwd");

        var (down, _, downError) = await CliRunner.RunAsync("down", "--all", "--home", _root.Path);
        var (add, _, addError) = await CliRunner.RunAsync("hook", "add", "x", "--home", _root.Path, "--", "/bin/true");

        Assert.Equal(1, down);
        Assert.Contains("[CastraUnsafeStateFile]", downError);
        Assert.Contains("symbolic link", downError);
        Assert.DoesNotContain("Unhandled exception", downError);
        Assert.NotEqual(0, add);
        Assert.Contains("symbolic link", addError);
        Assert.DoesNotContain("Unhandled exception", addError);
    }

    [Fact]
    public async Task An_overlay_path_that_names_a_directory_does_not_fail_a_good_stop()
    {
        var vm = _root.Launch("web");
        File.WriteAllText(vm.Paths.Definition, JsonSerializer.Serialize(new { Name = "web", EphemeralOverlay = vm.Paths.Directory + "/" }));

        var (_, results) = await StopAsync(new ShutdownOptions(), "web");

        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
        Assert.True(Directory.Exists(vm.Paths.Directory));
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Castra.Events;
using Castra.Native;
using Castra.Processes;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Hostile;

/// <summary>
/// What an attacker who can write a VM's files (qemu.pid, vm.json, qmp.sock) can point Castra at. Whatever it is, a
/// process that is not provably the VM's QEMU is never signalled; where something ties it to the VM, the shutdown
/// fails with CastraIdentityDisputed instead of pretending the VM stopped.
/// </summary>
public sealed class IdentityTests : IDisposable
{
    private static readonly ShutdownOptions Quick = new()
    {
        CooperativeTimeout = TimeSpan.FromSeconds(0.5),
        TermTimeout = TimeSpan.FromSeconds(5),
        KillTimeout = TimeSpan.FromSeconds(5),
    };

    private readonly TestStateRoot _root = new();
    private readonly List<IDisposable> _cleanup = [];

    public void Dispose()
    {
        foreach (var item in _cleanup)
        {
            item.Dispose();
        }

        _root.Dispose();
    }

    [Fact]
    public async Task A_pidfile_naming_tail_of_the_pidfile_is_disputed_and_tail_is_never_signalled()
    {
        var vm = NewVm("tailed");
        File.WriteAllText(vm.PidFile, "0\n");
        var tail = Start("tail", "-f", vm.PidFile);
        File.WriteAllText(vm.PidFile, $"{tail.Id}\n");

        var (observer, result) = await StopAsync("tailed");

        var message = AssertDisputed(observer, result, "tailed", tail.Id);
        Assert.Contains("/tail", message);
        Assert.Contains("not a QEMU executable", message);
        Assert.True(File.Exists(vm.PidFile), "a disputed pidfile is evidence: it is left in place");
        Assert.False(tail.HasExited, "tail -f qemu.pid names the pidfile but is no QEMU");
    }

    [Fact]
    public async Task Socat_serving_the_qmp_socket_without_a_pidfile_is_never_signalled()
    {
        var vm = NewVm("socat");
        var socat = Start("socat", $"UNIX-LISTEN:{vm.QmpSocket},fork", "EXEC:/bin/cat");
        await WaitUntilServedAsync(vm.QmpSocket);

        var (observer, result) = await StopAsync("socat");

        var message = AssertDisputed(observer, result, "socat", socat.Id);
        Assert.Contains("socat", message);
        Assert.False(socat.HasExited);

        var info = await VmInventory.DescribeAsync(vm);
        Assert.Equal("Stale", info.State);
        Assert.Null(info.Pid);
        Assert.StartsWith("identity disputed", info.Detail);
        Assert.False(socat.HasExited);
    }

    [Fact]
    public async Task Socat_serving_the_qmp_socket_while_the_pidfile_names_another_vms_qemu_gets_neither_signalled()
    {
        var other = _root.Launch("other", "graceful");
        var vm = NewVm("victim");
        var socat = Start("socat", $"UNIX-LISTEN:{vm.QmpSocket},fork", "EXEC:/bin/cat");
        await WaitUntilServedAsync(vm.QmpSocket);
        File.WriteAllText(vm.PidFile, $"{other.Pid}\n");

        var (observer, result) = await StopAsync("victim");

        AssertDisputed(observer, result, "victim", other.Pid, socat.Id);
        Assert.False(socat.HasExited);
        Assert.True(other.IsAlive, "another VM's QEMU is not this VM's");
        Assert.DoesNotContain(other.Records, r => r.StartsWith("signal:", StringComparison.Ordinal) || r.StartsWith("cmd:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_forged_vm_json_start_time_does_not_make_a_bystander_signalable()
    {
        var vm = NewVm("forged");
        var bystander = Start("sleep", "300"); // root's own process when the tests run as root
        File.WriteAllText(vm.PidFile, $"{bystander.Id}\n");
        var forged = new VmDefinition { ProcessStartTime = ProcStat.TryRead(bystander.Id)!.StartTime, BootId = HostClock.BootId };
        VmDefinitionStore.Write(vm, forged);

        var (observer, result) = await StopAsync("forged");

        AssertDisputed(observer, result, "forged", bystander.Id);
        Assert.False(bystander.HasExited);

        // Even a vm.json the caller trusts ties no process that is not a QEMU.
        using var dir = VmDirectory.TryOpen(vm)!;
        forged.OwnerTrusted = true;
        var located = await ProcessLocator.LocateAsync(dir, forged, usePidfd: true, CancellationToken.None);
        Assert.Equal(IdentityVerdict.Disputed, located.Verdict);
        Assert.Null(located.Process);
        Assert.False(bystander.HasExited);
    }

    [Fact]
    public async Task A_vm_json_owned_by_another_user_cannot_point_castra_at_another_vms_qemu()
    {
        var other = _root.Launch("other", "ignore-acpi");
        var vm = NewVm("borrowed");
        File.WriteAllText(vm.PidFile, $"{other.Pid}\n");
        VmDefinitionStore.Write(vm, new VmDefinition { ProcessStartTime = ProcStat.TryRead(other.Pid)!.StartTime, BootId = HostClock.BootId });
        OtherUser.Own(vm.Definition);

        var (observer, result) = await StopAsync("borrowed");

        var message = AssertDisputed(observer, result, "borrowed", other.Pid);
        Assert.Contains("not trusted", message);
        Assert.True(other.IsAlive);
        Assert.DoesNotContain(other.Records, r => r.StartsWith("signal:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_recycled_listener_pid_is_never_signalled_and_the_qemu_holding_the_socket_is_stopped(bool withoutPeerPidfd)
    {
        var vm = NewVm("forked");
        var (listenerPid, holder) = ListenAndFork(vm.QmpSocket);
        var recycled = StartAtPid(listenerPid, "sleep", "300");

        // SO_PEERCRED on qmp.sock now names the unrelated sleep; SO_PEERPIDFD the exited listener.
        SocketPeer.WithoutPeerPidfd.Value = withoutPeerPidfd;
        var (observer, result) = await StopAsync("forked");

        Assert.True(recycled.IsAlive, $"PID {listenerPid} was recycled for an unrelated process, which must survive");
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
        Assert.Equal("Escalation", observer.TypesFor("forked")[^2]);
        Assert.False(holder.IsAlive, "the QEMU that holds the socket is the one stopped");
        Assert.Equal(holder.Pid, ShutdownStatusReader.Read(vm)?.QemuPid);
    }

    [Fact]
    public async Task A_qemu_whose_binary_was_replaced_while_it_runs_is_still_proven()
    {
        var bin = Path.Combine(_root.Path, "bin");
        Directory.CreateDirectory(bin);
        var upgraded = Path.Combine(bin, "qemu-system-x86_64");
        File.Copy(FakeQemuBinary.Path, upgraded);
        var vm = NewVm("upgraded");
        using (var launcher = Process.Start(upgraded, ["-daemonize", "-pidfile", vm.PidFile, "-qmp", $"unix:{vm.QmpSocket},server=on,wait=off", "--fake-behavior", "graceful"]))
        {
            Assert.True(launcher.WaitForExit(10_000));
            Assert.Equal(0, launcher.ExitCode);
        }

        var pid = int.Parse(File.ReadAllText(vm.PidFile).Trim(), CultureInfo.InvariantCulture);
        using var qemu = Bystander.Of(pid);
        File.Delete(upgraded); // what apt does to the old binary on an upgrade
        Assert.EndsWith(" (deleted)", Libc.ReadLink($"/proc/{pid}/exe"));

        var (observer, result) = await StopAsync("upgraded");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("upgraded"));
        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(qemu.IsAlive);
    }

    [Fact]
    public async Task The_polling_fallback_never_signals_a_recycled_pid()
    {
        var first = Start("sleep", "300");
        using var tracked = TrackedProcess.Open(first.Id, allowPidfd: false)!;
        Assert.Equal("polling", tracked.Mechanism);
        first.Kill();
        await first.WaitForExitAsync(); // reaped: the number is free again
        var successor = StartAtPid(first.Id, "sleep", "300");

        Assert.True(tracked.HasExited);
        Assert.NotEqual(SignalResult.Sent, tracked.Signal(Libc.SIGTERM, out _));
        Assert.NotEqual(SignalResult.Sent, tracked.Signal(Libc.SIGKILL, out _));
        Assert.True(successor.IsAlive);
    }

    [Theory]
    [InlineData("/usr/bin/qemu-system-x86_64", true)]
    [InlineData("/usr/libexec/qemu-kvm", true)]
    [InlineData("/usr/bin/qemu-system-aarch64 (deleted)", true)]
    [InlineData("/opt/qemu/bin/qemu-system-riscv64", true)]
    [InlineData("/usr/bin/qemu-system-", false)]
    [InlineData("/usr/bin/qemu-img", false)]
    [InlineData("/usr/bin/qemu-x86_64", false)]
    [InlineData("/usr/bin/tail", false)]
    [InlineData("/tmp/fake-qemu", false)]
    [InlineData("/usr/bin/qemu-system-x86_64.sh/tail", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_qemu_system_and_qemu_kvm_executables_count_as_qemu(string? executable, bool isQemu) =>
        Assert.Equal(isQemu, QemuExecutable.IsQemu(executable));

    private VmPaths NewVm(string name)
    {
        var vm = _root.Vm(name);
        Directory.CreateDirectory(vm.Directory);
        return vm;
    }

    private async Task<(RecordingObserver Observer, VmShutdownResult Result)> StopAsync(string name)
    {
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync([name], Quick, observer);
        return (observer, results.Single());
    }

    private Process Start(string program, params string[] args) => _root.Track(Process.Start(new ProcessStartInfo(program, args))!);

    /// <summary>Nothing signalled, nothing to pretend: Requested then Complete(Failed), error CastraIdentityDisputed naming the PIDs.</summary>
    private static string AssertDisputed(RecordingObserver observer, VmShutdownResult result, string vm, params int[] pids)
    {
        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], observer.TypesFor(vm));
        var complete = (ShutdownCompleteEvent)observer.For(vm)[^1];
        Assert.Equal("Failed", complete.Outcome);
        Assert.False(complete.Changed);
        Assert.Equal(ShutdownOutcome.Failed, result.Outcome);
        Assert.Equal("CastraIdentityDisputed", result.ErrorId);
        var error = Assert.Single(observer.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal("CastraIdentityDisputed", error.ErrorId);
        foreach (var pid in pids)
        {
            Assert.Contains($"PID {pid}", error.Message);
        }

        Assert.Contains("nothing was signalled", complete.Detail);
        Assert.DoesNotContain('\n', complete.Detail!);
        return error.Message;
    }

    /// <summary>A listener that forks a child holding its socket, then exits (reaped): returns its PID and the holder.</summary>
    private (int ListenerPid, Bystander Holder) ListenAndFork(string socketPath)
    {
        var ready = Path.Combine(_root.Path, Guid.NewGuid().ToString("N")[..8] + ".ready");
        using var listener = Process.Start(IdentityHelperBinary.Path, ["listen-fork", socketPath, ready])!;
        Assert.True(listener.WaitForExit(10_000));
        Assert.Equal(0, listener.ExitCode);
        var holder = Bystander.Of(int.Parse(File.ReadAllText(ready).Trim(), CultureInfo.InvariantCulture));
        _cleanup.Add(holder);
        return (listener.Id, holder);
    }

    /// <summary>Starts PROGRAM as a new process with exactly <paramref name="pid"/> (which must be free).</summary>
    private Bystander StartAtPid(int pid, string program, params string[] args)
    {
        using var helper = Process.Start(new ProcessStartInfo(IdentityHelperBinary.Path, ["at-pid", pid.ToString(CultureInfo.InvariantCulture), program, .. args])
        {
            RedirectStandardOutput = true,
        })!;
        var said = helper.StandardOutput.ReadToEnd();
        Assert.True(helper.WaitForExit(60_000));
        Assert.True(helper.ExitCode == 0, $"could not start {program} at PID {pid}: {said}");

        // Exec'd once its cmdline names the program.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.ReadAllText($"/proc/{pid}/cmdline").StartsWith(program, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        var bystander = Bystander.Of(pid);
        _cleanup.Add(bystander);
        return bystander;
    }

    private static async Task WaitUntilServedAsync(string socketPath)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }
}

using System.Diagnostics;
using Castra.Events;
using Castra.Processes;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>Castra never signals a process that is not provably the VM's QEMU.</summary>
public sealed class ProcessIdentityTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private Process StartSleeper(string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo("sleep", ["300"]);
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }

        return _root.Track(Process.Start(psi)!);
    }

    private async Task<RecordingObserver> StopAsync(string name, ShutdownOptions? options = null)
    {
        var observer = new RecordingObserver();
        await new ShutdownEngine(_root.Root).StopAsync([name], options ?? new ShutdownOptions { TermTimeout = TimeSpan.FromSeconds(5) }, observer);
        return observer;
    }

    [Fact]
    public async Task Pidfile_naming_an_unrelated_live_process_is_never_signalled()
    {
        var vm = _root.Vm("reused");
        Directory.CreateDirectory(vm.Directory);
        using var bystander = StartSleeper();
        File.WriteAllText(vm.PidFile, $"{bystander.Id}\n");

        var observer = await StopAsync("reused");

        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], observer.TypesFor("reused"));
        var complete = (ShutdownCompleteEvent)observer.Events[^1];
        Assert.False(complete.Changed);
        Assert.Equal("Graceful", complete.Outcome);
        Assert.Contains($"PID {bystander.Id}", complete.Detail);
        var warning = Assert.Single(observer.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal("CastraStalePidFile", warning.ErrorId);
        Assert.False(File.Exists(vm.PidFile));

        await Task.Delay(200);
        Assert.False(bystander.HasExited, "the unrelated process must survive");
    }

    [Fact]
    public async Task Garbage_pidfile_is_treated_as_stale()
    {
        var vm = _root.Vm("garbage");
        Directory.CreateDirectory(vm.Directory);
        File.WriteAllText(vm.PidFile, "not-a-pid");

        var observer = await StopAsync("garbage");

        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], observer.TypesFor("garbage"));
        Assert.Equal("CastraStalePidFile", Assert.Single(observer.Diagnostics).ErrorId);
        Assert.False(File.Exists(vm.PidFile));
    }

    [Fact]
    public async Task Start_time_recorded_in_a_trusted_vm_json_proves_a_qemus_identity()
    {
        var vm = _root.Vm("recorded");
        Directory.CreateDirectory(vm.Directory);

        // A QEMU whose command line names none of the VM's files (its pidfile lives elsewhere, no QMP socket).
        var elsewhere = Path.Combine(_root.Path, "elsewhere.pid");
        var qemu = _root.Track(Process.Start(new ProcessStartInfo(FakeQemuBinary.Path, ["-pidfile", elsewhere, "--fake-behavior", "ignore-acpi", "--fake-ready-file", ReadyFile(vm)]))!);
        await WaitUntilListeningAsync(vm);
        File.WriteAllText(vm.PidFile, $"{qemu.Id}\n");
        var definition = new VmDefinition { ProcessStartTime = ProcStat.TryRead(qemu.Id)!.StartTime, BootId = HostClock.BootId };
        VmDefinitionStore.Write(vm, definition);

        using var dir = VmDirectory.TryOpen(vm)!;
        definition.OwnerTrusted = true;
        var trusted = await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, CancellationToken.None);
        using (trusted.Process)
        {
            Assert.Equal(IdentityVerdict.Verified, trusted.Verdict);
            Assert.Contains("vm.json recorded", trusted.Detail);
        }

        // Untrusted (owned by someone who could have copied the start time into it): a tie that proves nothing.
        definition.OwnerTrusted = false;
        var untrusted = await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, CancellationToken.None);
        Assert.Equal(IdentityVerdict.Disputed, untrusted.Verdict);
        Assert.Null(untrusted.Process);
        Assert.Contains("not trusted", untrusted.Detail);
        Assert.False(qemu.HasExited);

        // The engine reads vm.json itself: written here by the test's own user, so trusted, and the QEMU is proven.
        var observer = await StopAsync("recorded");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("recorded"));
        Assert.Equal("Forced", ((ShutdownCompleteEvent)observer.Events[^1]).Outcome);
        Assert.True(qemu.WaitForExit(10_000));
    }

    [Fact]
    public async Task Start_time_from_another_boot_does_not_prove_identity()
    {
        var vm = _root.Vm("otherboot");
        Directory.CreateDirectory(vm.Directory);
        using var bystander = StartSleeper();
        File.WriteAllText(vm.PidFile, $"{bystander.Id}\n");
        VmDefinitionStore.Write(vm, new VmDefinition { ProcessStartTime = ProcStat.TryRead(bystander.Id)!.StartTime, BootId = "00000000-0000-0000-0000-000000000000" });

        var observer = await StopAsync("otherboot");

        Assert.Equal(["ShutdownRequested", "ShutdownComplete"], observer.TypesFor("otherboot"));
        Assert.False(bystander.HasExited);
    }

    [Fact]
    public async Task Relative_paths_on_the_command_line_are_resolved_against_the_process_cwd()
    {
        var vm = _root.Vm("relative");
        Directory.CreateDirectory(vm.Directory);
        var psi = new ProcessStartInfo(FakeQemuBinary.Path, ["-pidfile", "qemu.pid", "-qmp", "unix:qmp.sock,server=on,wait=off", "--fake-behavior", "ignore-acpi", "--fake-ready-file", ReadyFile(vm)])
        {
            WorkingDirectory = vm.Directory,
        };
        var fake = _root.Track(Process.Start(psi)!);
        await WaitUntilListeningAsync(vm);

        var observer = await StopAsync("relative", new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(0.5) });

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "Escalation", "ShutdownComplete"], observer.TypesFor("relative"));
        Assert.True(fake.WaitForExit(10_000));
    }

    [Fact]
    public async Task A_qemu_without_pidfile_is_found_through_its_qmp_socket()
    {
        var vm = _root.Vm("nopidfile");
        Directory.CreateDirectory(vm.Directory);
        var psi = new ProcessStartInfo(FakeQemuBinary.Path, ["-qmp", $"unix:{vm.QmpSocket},server=on,wait=off", "--fake-behavior", "graceful", "--fake-ready-file", ReadyFile(vm)]);
        var fake = _root.Track(Process.Start(psi)!);
        await WaitUntilListeningAsync(vm);

        var observer = await StopAsync("nopidfile");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("nopidfile"));
        Assert.True(fake.WaitForExit(10_000));
    }

    [Fact]
    public void Proc_stat_parsing_copes_with_spaces_and_parentheses_in_the_name()
    {
        var line = "1234 (qemu (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 3 0 987654 123456 789";
        var stat = ProcStat.Parse(1234, line);
        Assert.NotNull(stat);
        Assert.Equal('S', stat.State);
        Assert.Equal(987654UL, stat.StartTime);
        Assert.Equal("qemu (x) y", stat.Comm);
        Assert.False(stat.IsExiting); // flags 0x400100
        Assert.True(ProcStat.Parse(1234, line.Replace(" 4194560 ", " 4194564 ", StringComparison.Ordinal))!.IsExiting); // | PF_EXITING
        Assert.Null(ProcStat.Parse(1, "garbage"));
    }

    [Fact]
    public async Task Pidfd_sees_the_exit_of_a_process_that_is_not_our_child()
    {
        var vm = _root.Launch("watched", "ignore-acpi");
        using var tracked = TrackedProcess.Open(vm.Pid);
        Assert.NotNull(tracked);
        Assert.Equal("pidfd", tracked.Mechanism);
        Assert.False(await tracked.WaitForExitAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None));

        Assert.Equal(SignalResult.Sent, tracked.Signal(Castra.Native.Libc.SIGTERM, out _));
        Assert.True(await tracked.WaitForExitAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.True(tracked.HasExited);
    }

    [Fact]
    public async Task A_stale_pidfile_does_not_hide_the_qemu_serving_the_vm_socket()
    {
        var vm = _root.Launch("hidden", "graceful");
        using var bystander = StartSleeper();
        File.WriteAllText(vm.Paths.PidFile, $"{bystander.Id}\n");

        var observer = await StopAsync("hidden");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("hidden"));
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == "CastraStalePidFile" && d.Message.Contains($"PID {vm.Pid}"));
        Assert.False(vm.IsAlive);
        await Task.Delay(200);
        Assert.False(bystander.HasExited, "the process the stale pidfile named is never signalled");
    }

    [Fact]
    public async Task Socket_paths_over_the_unix_limit_do_not_crash_inspection_or_shutdown()
    {
        var longRoot = new Castra.State.StateRoot(Path.Combine(_root.Path, new string('d', 90)));
        var vm = longRoot.Vm("long");
        Directory.CreateDirectory(vm.Directory);
        File.WriteAllText(vm.QmpSocket, "not a socket");
        File.WriteAllText(vm.AgentSocket, "not a socket");

        Assert.Equal("Stopped", (await VmInventory.DescribeAsync(vm)).State);
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(longRoot).StopAsync(["long"], new ShutdownOptions(), observer);
        Assert.True(results.Single().Stopped);
    }

    private static string ReadyFile(VmPaths vm) => Path.Combine(vm.Root.Path, vm.Name + ".ready");

    /// <summary>
    /// The fake's ready file, not the socket file: the socket exists from bind(), and a connect before listen()
    /// is refused, which the engine rightly reads as "no QEMU here".
    /// </summary>
    private static async Task WaitUntilListeningAsync(VmPaths vm)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(ReadyFile(vm)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }
}

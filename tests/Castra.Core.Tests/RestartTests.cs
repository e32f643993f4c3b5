using Castra.Errors;
using Castra.Events;
using Castra.Launch;
using Castra.Native;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>
/// VmRestarter against fake QEMU processes started the way castra up starts QEMU (the fake daemonizes, writes its
/// pidfile and serves QMP): one stream per VM (the shutdown's events, then Started), VMs side by side, and a VM whose
/// record cannot be used left exactly as it was.
/// </summary>
public sealed class RestartTests : IDisposable
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

    private static LaunchOptions Fake(string behavior) => new()
    {
        Kernel = "/bin/sh", // The fake ignores -kernel; the launcher only needs the file to exist.
        MemoryMB = 128,
        Accelerator = "tcg",
        QemuPath = FakeQemuBinary.Path,
        ExtraArguments = ["--fake-behavior", behavior],
    };

    [Fact]
    public async Task A_start_from_the_record_keeps_the_disk_format_probed_at_the_first_launch()
    {
        // Root launched a raw image; whoever can write the image turns it into a qcow2 whose backing file is a host
        // file. A start from the record must not probe again and let QEMU (root) open that backing file.
        var disk = Path.Combine(_root.Path, "disk.img");
        await File.WriteAllBytesAsync(disk, new byte[1 << 20]);
        var first = await new VmLauncher(_root.Root).StartAsync("d", new LaunchOptions
        {
            Disk = disk, MemoryMB = 128, Accelerator = "tcg", QemuPath = FakeQemuBinary.Path, ExtraArguments = ["--fake-behavior", "graceful"],
        });
        Assert.Equal("raw", VmDefinitionStore.TryRead(_root.Vm("d"))!.Launch!.DiskFormat);
        var stopped = await new ShutdownEngine(_root.Root).StopAsync(["d"], new ShutdownOptions(), new RecordingObserver());
        Assert.True(stopped.Single().Stopped);

        File.Delete(disk);
        using (var img = System.Diagnostics.Process.Start("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", disk])!)
        {
            await img.WaitForExitAsync();
            Assert.Equal(0, img.ExitCode);
        }

        await new VmLauncher(_root.Root).StartRecordedAsync("d");

        var arguments = VmDefinitionStore.TryRead(_root.Vm("d"))!.Launch!.Arguments;
        Assert.Contains($"file={disk},if=virtio,format=raw", arguments);
        Assert.DoesNotContain(arguments, a => a.Contains("qcow2", StringComparison.Ordinal));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Qemu_is_never_started_into_a_directory_others_may_write()
    {
        // Root owns it but its group may write it: they could plant serial.log or qemu.pid as a link for QEMU (root)
        // to open by path and write through.
        var dir = _root.Vm("shared").Directory;
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FD);

        var ex = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(_root.Root).StartAsync("shared", Fake("graceful")));

        Assert.Equal(ErrorIds.UnsafeStateFile, ex.ErrorId);
        Assert.Contains("writable", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_root.Vm("shared").PidFile));
    }

    [Fact]
    public async Task Each_vm_is_stopped_then_started_from_its_record_and_one_without_a_usable_record_is_left_running()
    {
        var before = await new VmLauncher(_root.Root).StartAsync("a", Fake("graceful"));
        await new VmLauncher(_root.Root).StartAsync("forced", Fake("ignore-acpi"));
        var unrecorded = _root.Launch("b"); // Running, but vm.json records no launch.

        var observer = new RecordingObserver();
        var options = new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(0.5) };
        var results = await new VmRestarter(_root.Root).RestartAsync(["a", "forced", "b"], options, observer);

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete", "Started"], observer.TypesFor("a"));
        var started = Assert.IsType<StartedEvent>(observer.For("a")[^1]);
        Assert.Equal(5, started.Sequence);
        Assert.Equal(observer.For("a")[0].ShutdownId, started.ShutdownId);
        Assert.Equal(_root.Path, started.StateRoot);
        Assert.NotEqual(before.Pid, started.Pid);
        var after = await VmInventory.DescribeAsync(_root.Vm("a"));
        Assert.Equal("Running", after.State);
        Assert.Equal(started.Pid, after.Pid);

        // Forced (the guest ignored the button) is stopped too: it is started again, with its recorded behaviour.
        Assert.Equal("Forced", observer.For("forced").OfType<ShutdownCompleteEvent>().Single().Outcome);
        Assert.IsType<StartedEvent>(observer.For("forced")[^1]);
        Assert.Contains("--fake-behavior", RecordedLaunch.Read(_root.Root, "forced").ExtraArguments);

        // No record: refused before anything was done, still running, no events.
        Assert.Empty(observer.For("b"));
        var refused = Assert.Single(observer.Diagnostics, d => d.VmName == "b");
        Assert.Equal(ErrorIds.NoLaunchDefinition, refused.ErrorId);
        Assert.Contains("nothing was done to it", refused.Message, StringComparison.Ordinal);
        Assert.True(unrecorded.IsAlive);

        Assert.Equal([true, true, false], results.Select(r => r.Started));
        Assert.Equal(ShutdownOutcome.Graceful, results[0].StopOutcome);
        Assert.Null(results[2].StopOutcome);
    }

    [Fact]
    public async Task A_shutdown_that_is_cancelled_is_not_followed_by_a_start()
    {
        await new VmLauncher(_root.Root).StartAsync("slow", Fake("ignore-acpi"));
        var observer = new RecordingObserver();
        using var cancel = new CancellationTokenSource();
        observer.WhenEvent(e =>
        {
            if (e is CooperativeAttemptedEvent)
            {
                cancel.Cancel();
            }
        });

        var results = await new VmRestarter(_root.Root).RestartAsync(["slow"], new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(30) }, observer, cancel.Token);

        Assert.Equal("Cancelled", observer.For("slow").OfType<ShutdownCompleteEvent>().Single().Outcome);
        Assert.DoesNotContain(observer.For("slow"), e => e is StartedEvent);
        Assert.False(Assert.Single(results).Started);
        Assert.Equal("Running", (await VmInventory.DescribeAsync(_root.Vm("slow"))).State);
    }
}

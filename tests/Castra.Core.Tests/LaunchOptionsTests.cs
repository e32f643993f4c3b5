using Castra.Errors;
using Castra.Launch;
using Castra.State;

namespace Castra.Tests;

public sealed class LaunchOptionsTests
{
    [Theory]
    [InlineData(null, null, false, 512, 1, "auto")]
    [InlineData(null, "/d.img", true, 8, 1, "auto")]
    [InlineData("/k", null, true, 512, 1, "auto")]
    [InlineData("/k", null, false, 512, 0, "auto")]
    [InlineData("/k", null, false, 512, 1, "xen")]
    public void Bad_launch_options_are_rejected(string? kernel, string? disk, bool ephemeral, int memory, int cpus, string accel)
    {
        var options = new LaunchOptions { Kernel = kernel, Disk = disk, Ephemeral = ephemeral, MemoryMB = memory, CpuCount = cpus, Accelerator = accel };
        Assert.Equal("CastraInvalidLaunchOptions", Assert.Throws<CastraException>(() => options.Validate()).ErrorId);
    }

    [Fact]
    public void Qemu_is_wired_to_the_documented_layout()
    {
        var vm = new StateRoot("/srv/c").Vm("web");
        var args = VmLauncher.BuildArguments(vm, new LaunchOptions { Kernel = "/k", Initrd = "/i", Append = "quiet", GuestAgent = true, Accelerator = "tcg" }, null, null);
        var line = string.Join(' ', args);
        Assert.Contains("-daemonize -pidfile /srv/c/vms/web/qemu.pid", line);
        Assert.Contains("-qmp unix:/srv/c/vms/web/qmp.sock,server=on,wait=off", line);
        Assert.Contains("-serial file:/srv/c/vms/web/serial.log", line);
        Assert.Contains("-chardev socket,path=/srv/c/vms/web/qga.sock,server=on,wait=off,id=qga0", line);
        Assert.Contains("name=org.qemu.guest_agent.0", line);
        Assert.Contains("-accel tcg", line);
        Assert.Contains("-kernel /k -initrd /i -append quiet", line);
    }

    [Fact]
    public async Task Missing_qemu_is_explained_plainly()
    {
        var root = new StateRoot("/tmp/castra-t-" + Guid.NewGuid().ToString("N")[..8]);
        var ex = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(root).StartAsync("x", new LaunchOptions { Kernel = "/bin/sh", QemuPath = "/nonexistent/qemu" }));
        Assert.Equal("CastraQemuNotInstalled", ex.ErrorId);
        Assert.Contains("apt-get install qemu-system-x86", ex.Message);
    }

    [Theory]
    [InlineData("/bin/true", "no usable pidfile")]
    [InlineData("/bin/false", "exited with code 1")]
    public async Task A_qemu_that_fails_or_is_not_qemu_is_a_launch_failure_not_a_crash(string qemu, string message)
    {
        var root = new StateRoot("/tmp/castra-t-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var ex = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(root).StartAsync("x", new LaunchOptions { Kernel = "/bin/sh", QemuPath = qemu, Accelerator = "tcg" }));
            Assert.Equal("CastraLaunchFailed", ex.ErrorId);
            Assert.Contains(message, ex.Message);
        }
        finally
        {
            if (Directory.Exists(root.Path))
            {
                Directory.Delete(root.Path, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_fake_qemu_launches_and_is_recorded_like_a_real_one()
    {
        var root = new StateRoot("/tmp/castra-t-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var vm = await new VmLauncher(root).StartAsync("fake", new LaunchOptions { Kernel = "/bin/sh", QemuPath = Support.FakeQemuBinary.Path, Accelerator = "tcg" });
            Assert.Equal("Running", vm.State);
            var definition = VmDefinitionStore.TryRead(root.Vm("fake"))!;
            Assert.Equal(Castra.Processes.ProcStat.TryRead(vm.Pid!.Value)!.StartTime, definition.ProcessStartTime);
            var results = await new Castra.Shutdown.ShutdownEngine(root).StopAsync(["fake"], new Castra.Shutdown.ShutdownOptions(), new Support.RecordingObserver());
            Assert.Equal(Castra.Shutdown.ShutdownOutcome.Graceful, results.Single().Outcome);
        }
        finally
        {
            Directory.Delete(root.Path, recursive: true);
        }
    }
}

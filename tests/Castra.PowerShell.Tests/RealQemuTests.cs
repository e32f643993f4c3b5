using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>The whole path in real PowerShell against a real QEMU: Start-CastraVm, then the pipeline into Stop-CastraVm.</summary>
[Collection(RealQemuGroup.Name)]
public sealed class RealQemuTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public RealQemuTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        // A test that failed half-way leaves no QEMU behind.
        _pwsh.Run("Get-CastraVm -StateRoot $root | Where-Object Pid | ForEach-Object { Stop-Process -Id $_.Pid -Force -ErrorAction SilentlyContinue }");
        _pwsh.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void A_guest_started_with_Start_CastraVm_and_piped_to_Stop_CastraVm_powers_itself_off()
    {
        _pwsh.Set("kernel", TestGuest.Kernel).Set("initrd", TestGuest.Initrd);

        var started = _pwsh.Run("""
            Start-CastraVm acpi -Kernel $kernel -Initrd $initrd -Append 'console=ttyS0 quiet castra.mode=acpi' -MemoryMB 128 -Accelerator tcg -StateRoot $root -PassThru
            """);
        Assert.Empty(started.Errors);
        var vm = Assert.Single(started.Output);
        Assert.Equal("Running", vm.Text("State"));
        Assert.True(vm.As<bool>("Qmp"));
        TestGuest.WaitForSerial(_root.VmDirectory("acpi"), "CASTRA-READY");

        _pwsh.Set("vm", vm);
        var stopped = _pwsh.Run("$vm | Stop-CastraVm");

        Assert.Empty(stopped.Errors);
        Assert.Empty(stopped.Warnings);
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], stopped.TypesOf("acpi"));
        Assert.Equal("ACPI", stopped.Events[1].Text("Method"));
        Assert.True(stopped.Events[2].As<bool>("GuestInitiated"));
        Assert.Equal("Graceful", stopped.Events[3].Text("Outcome"));
        Assert.Contains("CASTRA-POWEROFF acpi", File.ReadAllText(Path.Combine(_root.VmDirectory("acpi"), "serial.log")), StringComparison.Ordinal);
        Assert.Equal("Stopped", Assert.Single(_pwsh.Run("Get-CastraVm acpi -StateRoot $root").Output).Text("State"));
    }
}

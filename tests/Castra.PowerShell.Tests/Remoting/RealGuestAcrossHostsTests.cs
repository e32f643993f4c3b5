using Castra.PowerShell.Tests.Support;
using Castra.PowerShell.Tests.Support.Ssh;

namespace Castra.PowerShell.Tests.Remoting;

/// <summary>
/// One real guest on an SSH host: started and stopped through -Session. In the real-QEMU collection (one guest at a
/// time on two cores), with SSH hosts of its own.
/// </summary>
[Collection(RealQemuGroup.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RealGuestAcrossHostsTests : IDisposable
{
    private readonly SshHosts _hosts = new();
    private readonly PwshSession _pwsh = new();

    public void Dispose()
    {
        _pwsh.Run("Get-PSSession | Remove-PSSession");
        // A test that failed half-way leaves no QEMU behind.
        _pwsh.Set("alphaHome", _hosts.Alpha.CastraHome)
            .Run("Get-CastraVm -StateRoot $alphaHome | Where-Object Pid | ForEach-Object { Stop-Process -Id $_.Pid -Force -ErrorAction SilentlyContinue }");
        _pwsh.Dispose();
        _hosts.Dispose();
    }

    [Fact]
    public void A_guest_started_on_a_host_through_its_session_powers_itself_off_when_stopped_through_it()
    {
        _pwsh.Set("kernel", TestGuest.Kernel).Set("initrd", TestGuest.Initrd).Run(_hosts.OpenSessions(_hosts.Alpha));

        var started = _pwsh.Run("""
            Start-CastraVm -Session $sessions acpi -Kernel $kernel -Initrd $initrd -Append 'console=ttyS0 quiet castra.mode=acpi' -MemoryMB 128 -Accelerator tcg -PassThru
            """);
        Assert.Empty(started.Errors);
        var vm = Assert.Single(started.Output);
        Assert.Equal(_hosts.Alpha.Address, vm.Text("PSComputerName"));
        Assert.Equal("Running", vm.Text("State"));
        var directory = Path.Combine(_hosts.Alpha.CastraHome, "vms", "acpi");
        TestGuest.WaitForSerial(directory, "CASTRA-READY");

        var stopped = _pwsh.Run("Stop-CastraVm -Session $sessions acpi");

        Assert.Empty(stopped.Errors);
        Assert.Empty(stopped.Warnings);
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], stopped.TypesOf("acpi"));
        Assert.All(stopped.Events, e => Assert.Equal(_hosts.Alpha.Address, e.Text("PSComputerName")));
        Assert.Equal("ACPI", stopped.Events[1].Text("Method"));
        Assert.True(stopped.Events[2].As<bool>("GuestInitiated"));
        Assert.Equal("Graceful", stopped.Events[3].Text("Outcome"));
        Assert.Contains("CASTRA-POWEROFF acpi", File.ReadAllText(Path.Combine(directory, "serial.log")), StringComparison.Ordinal);
    }
}

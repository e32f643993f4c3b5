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

    [Fact]
    public void Stop_CastraVm_Escalation_Save_saves_a_guest_that_ignores_acpi_and_Start_CastraVm_resumes_it()
    {
        _pwsh.Set("kernel", TestGuest.Kernel).Set("initrd", TestGuest.Initrd);
        const string start = "Start-CastraVm counter -Kernel $kernel -Initrd $initrd -Append 'console=ttyS0 quiet castra.mode=counter' -Accelerator tcg -StateRoot $root";
        Assert.Empty(_pwsh.Run(start + " -MemoryMB 128").Errors);
        var serial = Path.Combine(_root.VmDirectory("counter"), "serial.log");
        TestGuest.WaitForSerial(_root.VmDirectory("counter"), "CASTRA-COUNT 3");

        var stopped = _pwsh.Run("Stop-CastraVm counter -Escalation Save -CooperativeTimeout 1 -SaveTimeout 20 -StateRoot $root");

        Assert.Empty(stopped.Errors);
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "SaveAttempted", "SaveSucceeded", "ShutdownComplete"], stopped.TypesOf("counter"));
        Assert.Equal(20_000, stopped.Events[3].As<long>("TimeoutMs"));
        Assert.Equal("Saved", stopped.Events[^1].Text("Outcome"));
        Assert.Contains("saved the guest's state", stopped.Events[4].Text("Summary"), StringComparison.Ordinal);
        var listed = Assert.Single(_pwsh.Run("Get-CastraVm counter -StateRoot $root").Output);
        Assert.Equal("Stopped", listed.Text("State"));
        Assert.True(listed.As<bool>("SavedState"));
        var lastBefore = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(serial), @"CASTRA-COUNT (\d+)").Max(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        // Another definition: refused, one non-terminating error record naming the VM and the PowerShell switch.
        var refused = _pwsh.Run(start + " -MemoryMB 160");
        var error = Assert.Single(refused.Errors);
        Assert.Equal("CastraSavedStateMismatch,Castra.PowerShell.Commands.StartCastraVmCommand", error.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidOperation, error.CategoryInfo.Category);
        Assert.Equal("counter", error.TargetObject);
        Assert.Contains("-DiscardSavedState", error.Exception.Message, StringComparison.Ordinal);

        // The same definition: resumed, counting on, the image gone.
        Assert.Empty(_pwsh.Run(start + " -MemoryMB 128").Errors);
        Assert.False(Assert.Single(_pwsh.Run("Get-CastraVm counter -StateRoot $root").Output).As<bool>("SavedState"));
        TestGuest.WaitForSerial(_root.VmDirectory("counter"), "CASTRA-COUNT");
        var first = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(serial), @"CASTRA-COUNT (\d+)");
        Assert.True(int.Parse(first.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > lastBefore, "the resumed guest counts on");
    }

    [Fact]
    public void Save_and_TurnOff_together_are_a_terminating_invalid_argument()
    {
        Directory.CreateDirectory(_root.VmDirectory("web"));
        var error = _pwsh.RunExpectingTermination("Stop-CastraVm web -Save -TurnOff -Force -StateRoot $root");

        Assert.StartsWith("CastraInvalidArgument,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("-Save", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("-TurnOff", error.Exception.Message, StringComparison.Ordinal);
    }
}

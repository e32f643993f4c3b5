using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// Start-CastraVm NAME, Restart-CastraVm, Wait-CastraVm and Stop-CastraVm -PassThru in real PowerShell against one
/// real guest (ACPI mode), reused across the steps: three boots in all.
/// </summary>
[Collection(RealQemuGroup.Name)]
public sealed class RealQemuRestartTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public RealQemuRestartTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Run("Get-CastraVm -StateRoot $root | Where-Object Pid | ForEach-Object { Stop-Process -Id $_.Pid -Force -ErrorAction SilentlyContinue }");
        _pwsh.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void Wait_restart_stop_with_PassThru_and_start_again_from_the_recorded_definition()
    {
        _pwsh.Set("kernel", TestGuest.Kernel).Set("initrd", TestGuest.Initrd);
        var started = _pwsh.Run("""
            Start-CastraVm web -Kernel $kernel -Initrd $initrd -Append 'console=ttyS0 quiet castra.mode=acpi' -MemoryMB 128 -Accelerator tcg -StateRoot $root -PassThru
            """);
        Assert.Empty(started.Errors);
        var firstPid = Assert.Single(started.Output).As<int>("Pid");

        // Right after the start: ready once QMP says running and the guest printed its marker.
        var waited = _pwsh.Run("Wait-CastraVm web -ForMarker 'CASTRA-READY' -StateRoot $root");
        Assert.Empty(waited.Errors);
        var ready = Assert.Single(waited.Output);
        Assert.True(ready.As<bool>("Ready"), ready.Text("Detail"));
        Assert.Equal("QMP running, marker 'CASTRA-READY'", ready.Text("WaitedFor"));
        Assert.Contains("CASTRA-READY acpi", File.ReadAllText(Path.Combine(_root.VmDirectory("web"), "serial.log")), StringComparison.Ordinal);

        // A short timeout: the object says not ready, and a non-terminating error says why.
        var timedOut = _pwsh.Run("Wait-CastraVm web -ForMarker 'NEVER-PRINTED' -Timeout 0.5 -StateRoot $root");
        Assert.False(Assert.Single(timedOut.Output).As<bool>("Ready"));
        Assert.Equal("CastraVmNotReady,Castra.PowerShell.Commands.WaitCastraVmCommand", Assert.Single(timedOut.Errors).FullyQualifiedErrorId);

        // Running already: an error, nothing changed.
        var again = _pwsh.Run("Start-CastraVm web -StateRoot $root");
        Assert.Equal("CastraVmAlreadyRunning,Castra.PowerShell.Commands.StartCastraVmCommand", Assert.Single(again.Errors).FullyQualifiedErrorId);

        // Restart: the stop's events, then Started, then (-PassThru) the VM running again under a new QEMU.
        var restarted = _pwsh.Run("Get-CastraVm web -StateRoot $root | Restart-CastraVm -PassThru");
        Assert.Empty(restarted.Errors);
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete", "Started"], restarted.TypesOf("web"));
        var startedEvent = restarted.Events[^1];
        Assert.Equal(5, startedEvent.As<int>("Sequence"));
        Assert.Equal(restarted.Events[0].Text("ShutdownId"), startedEvent.Text("ShutdownId"));
        Assert.Contains("started again from its recorded definition", startedEvent.Text("Summary"), StringComparison.Ordinal);
        var vm = restarted.Output[^1];
        Assert.Equal("Running", vm.Text("State"));
        Assert.NotEqual(firstPid, vm.As<int>("Pid"));
        Assert.Equal(startedEvent.As<int>("Pid"), vm.As<int>("Pid"));

        // The guest boots again.
        Assert.True(Assert.Single(_pwsh.Run("Wait-CastraVm web -ForMarker 'CASTRA-READY' -StateRoot $root").Output).As<bool>("Ready"));

        var stopped = _pwsh.Run("Stop-CastraVm web -StateRoot $root -PassThru");
        Assert.Empty(stopped.Errors);
        Assert.Equal("Graceful", stopped.Events[^1].Text("Outcome"));
        Assert.Equal("Stopped", stopped.Output[^1].Text("State"));

        // Stopped: a name alone (here from the pipeline) starts it again from vm.json.
        var relaunched = _pwsh.Run("Get-CastraVm web -StateRoot $root | Start-CastraVm -PassThru");
        Assert.Empty(relaunched.Errors);
        Assert.Equal("Running", Assert.Single(relaunched.Output).Text("State"));
        Assert.True(Assert.Single(_pwsh.Run("Wait-CastraVm web -ForMarker 'CASTRA-READY' -StateRoot $root").Output).As<bool>("Ready"));
        Assert.Empty(_pwsh.Run("Stop-CastraVm web -StateRoot $root").Errors);
    }
}

using System.Management.Automation;
using Castra.PowerShell.Tests.Support;
using Castra.PowerShell.Tests.Support.Ssh;

namespace Castra.PowerShell.Tests.Remoting;

/// <summary>
/// Castra's objects through real PowerShell remoting over SSH (Invoke-Command -Session, no -Session of Castra's own):
/// events, VMs, statuses and error records keep their meaning on the client.
/// </summary>
[Collection(SshHostsGroup.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InvokeCommandTests : IDisposable
{
    private readonly SshHosts _hosts;
    private readonly PwshSession _pwsh = new();

    public InvokeCommandTests(SshHosts hosts)
    {
        _hosts = hosts;
        hosts.Reset();
    }

    public void Dispose()
    {
        _pwsh.Run("Get-PSSession | Remove-PSSession");
        _pwsh.Dispose();
        _hosts.Reset();
    }

    [Fact]
    public void Events_vms_statuses_and_errors_keep_their_meaning_through_Invoke_Command()
    {
        _hosts.Alpha.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(_hosts.Alpha));

        var result = _pwsh.Run("""
            Invoke-Command -Session $sessions { Stop-CastraVm web, ghost }
            Invoke-Command -Session $sessions { Get-CastraVm web; Get-CastraShutdownStatus web }
            """);

        var events = result.Events;
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], result.TypesOf("web"));
        Assert.All(events, e =>
        {
            Assert.Equal("Deserialized.Castra.Events." + e.Text("Type") + "Event", e.TypeNames[0]);
            Assert.Equal(_hosts.Alpha.Address, e.Text("PSComputerName"));
            Assert.Equal(DateTimeKind.Utc, e.As<DateTime>("Timestamp").Kind);
        });
        Assert.Equal("Graceful", events[^1].Text("Outcome"));
        Assert.IsType<string>(events[^1].Value("Outcome"));
        // Milliseconds survive: two events of one run rarely fall in the same millisecond, and never all of them.
        Assert.Contains(events, e => e.As<DateTime>("Timestamp").Millisecond != 0);

        var vm = Assert.Single(result.Output, o => o.TypeNames[0] == "Deserialized.Castra.State.VmInfo");
        Assert.Equal("Stopped", vm.Text("State"));
        Assert.Equal(_hosts.Alpha.Address, vm.Text("PSComputerName"));
        var status = Assert.Single(result.Output, o => o.TypeNames[0] == "Deserialized.Castra.State.ShutdownStatus");
        Assert.Equal("Graceful", status.Text("Outcome"));

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("CastraVmNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal("ghost", error.TargetObject?.ToString());
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(_hosts.Alpha.Address, ((System.Management.Automation.Runspaces.RemotingErrorRecord)error).OriginInfo.PSComputerName);

        // Invoke-Command marks its output for PowerShell to add a PSComputerName column of its own (at the right, a
        // second one in Castra's views); -HideComputerName leaves the views' own first column only.
        var table = _pwsh.Run("Invoke-Command -Session $sessions { Get-CastraVm web } -HideComputerName | Out-String -Width 80").Output.Single().ToString()!;
        Assert.Matches(@"^PSComputerName\s+Name\s+State\s+Pid\s+Uptime\s+LastOutcome\r?$", table.Split('\n').First(l => l.Trim().Length > 0));
        Assert.Contains(_hosts.Alpha.Address, table);
    }
}

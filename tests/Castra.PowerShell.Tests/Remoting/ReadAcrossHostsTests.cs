using System.Management.Automation.Runspaces;
using Castra.PowerShell.Tests.Support;
using Castra.PowerShell.Tests.Support.Ssh;

namespace Castra.PowerShell.Tests.Remoting;

/// <summary>
/// Get-CastraVm, Get-CastraShutdownStatus and Start-CastraVm -Session against real SSH hosts on loopback addresses.
/// </summary>
[Collection(SshHostsGroup.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReadAcrossHostsTests : IDisposable
{
    private readonly SshHosts _hosts;
    private readonly PwshSession _pwsh = new();

    public ReadAcrossHostsTests(SshHosts hosts)
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
    public void Vms_and_statuses_of_every_host_come_tagged_with_their_host_and_render_host_by_host()
    {
        var alphaWeb = _hosts.Alpha.Launch("web");
        _hosts.Alpha.Launch("db");
        _hosts.Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(_hosts.Alpha, _hosts.Beta));
        _pwsh.Run("$null = Stop-CastraVm -Session $sessions[0] web");
        Poll.Until(() => !alphaWeb.IsAlive, "alpha's web to exit");

        var vms = _pwsh.Run("$vms = Get-CastraVm -Session $sessions; $vms");
        Assert.Empty(vms.Errors);
        var rows = vms.Output.Select(o => (Host: o.Text("PSComputerName"), Name: o.Text("Name"), State: o.Text("State"))).Order().ToList();
        Assert.Equal(
            [(_hosts.Alpha.Address, "db", "Running"), (_hosts.Alpha.Address, "web", "Stopped"), (_hosts.Beta.Address, "web", "Running")],
            rows);
        Assert.All(vms.Output, o => Assert.Equal("Deserialized.Castra.State.VmInfo", o.TypeNames[0]));
        var table = _pwsh.Run("$vms | Out-String -Width 80").Output.Single().ToString()!.Split('\n').Where(l => l.Trim().Length > 0).ToList();
        Assert.Matches(@"^PSComputerName\s+Name\s+State\s+Pid\s+Uptime\s+LastOutcome\r?$", table[0]);
        Assert.Contains(table, l => l.StartsWith(_hosts.Beta.Address, StringComparison.Ordinal) && l.Contains("Running"));

        var statuses = _pwsh.Run("$s = Get-CastraShutdownStatus -Session $sessions web, ghost; $s");
        var status = Assert.Single(statuses.Output);
        Assert.Equal(_hosts.Alpha.Address, status.Text("PSComputerName"));
        Assert.Equal("Graceful", status.Text("Outcome"));
        Assert.Matches(@"^PSComputerName\s+VmName\s+State", _pwsh.Run("$s | Out-String -Width 80").Output.Single().ToString()!.TrimStart());
        // ghost is on neither host: each host says so, as its own error with the VM as the target.
        Assert.Equal([_hosts.Alpha.Address, _hosts.Beta.Address],
            statuses.Errors.Select(e => ((RemotingErrorRecord)e).OriginInfo.PSComputerName).Order());
        Assert.All(statuses.Errors, e =>
        {
            Assert.StartsWith("CastraVmNotFound,", e.FullyQualifiedErrorId);
            Assert.Equal("ghost", e.TargetObject?.ToString());
        });
    }

    [Fact]
    public void A_hosts_warnings_and_verbose_messages_come_back_on_their_own_streams_naming_the_host()
    {
        _pwsh.Run(_hosts.OpenSessions(_hosts.Gamma));

        var result = _pwsh.Run("Stop-CastraVm -Session $sessions -All -Verbose");

        Assert.Empty(result.Output);
        Assert.Empty(result.Errors);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal($"[{_hosts.Gamma.Address}] There are no VMs under {_hosts.Gamma.CastraHome}: nothing to stop.", warning.Message);
        // ShouldProcess's own line (asked here, per host) and the host's lines (prefixed) both name the host.
        Assert.Contains(result.Verbose, v => v.Message.StartsWith($"Stop every VM on {_hosts.Gamma.Address}:", StringComparison.Ordinal));
        Assert.All(result.Verbose, v => Assert.Contains(_hosts.Gamma.Address, v.Message));
    }

    [Fact]
    public void Start_starts_the_VM_on_every_host_with_paths_as_each_host_sees_them()
    {
        _pwsh.Set("fake", FakeQemu.Path).Run(_hosts.OpenSessions(_hosts.Alpha, _hosts.Beta));

        var started = _pwsh.Run("Start-CastraVm -Session $sessions box -Kernel /bin/true -QemuPath $fake -Accelerator tcg -PassThru");

        Assert.Empty(started.Errors);
        Assert.Equal([_hosts.Alpha.Address, _hosts.Beta.Address], started.Output.Select(o => o.Text("PSComputerName")).Order());
        Assert.All(started.Output, o =>
        {
            Assert.Equal("box", o.Text("Name"));
            Assert.Equal("Running", o.Text("State"));
        });
        Assert.True(File.Exists(Path.Combine(_hosts.Alpha.CastraHome, "vms", "box", "qemu.pid")));
        Assert.True(File.Exists(Path.Combine(_hosts.Beta.CastraHome, "vms", "box", "qemu.pid")));

        var preview = _pwsh.Run("Start-CastraVm -Session $sessions other -Kernel /bin/true -QemuPath $fake -WhatIf");
        Assert.Empty(preview.Output);
        Assert.Equal([$"What if: Start VM 'other' on {_hosts.Alpha.Address}", $"What if: Start VM 'other' on {_hosts.Beta.Address}"],
            _pwsh.Host.Interface.Lines.Where(l => l.StartsWith("What if:", StringComparison.Ordinal)));
        Assert.False(Directory.Exists(Path.Combine(_hosts.Alpha.CastraHome, "vms", "other")));
    }
}

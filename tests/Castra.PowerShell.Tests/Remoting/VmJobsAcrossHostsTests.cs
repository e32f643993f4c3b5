using Castra.PowerShell.Tests.Support;
using Castra.PowerShell.Tests.Support.Ssh;

namespace Castra.PowerShell.Tests.Remoting;

/// <summary>
/// Stop-CastraVm -Session -AsJob against real SSH hosts on loopback (fake QEMU VMs under each host): each host's child
/// job has one child job per VM of that host, there from the start, each ending with its VM.
/// </summary>
[Collection(SshHostsGroup.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class VmJobsAcrossHostsTests : IDisposable
{
    private static readonly string[] Graceful = ["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"];
    private readonly SshHosts _hosts;
    private readonly PwshSession _pwsh = new();

    public VmJobsAcrossHostsTests(SshHosts hosts)
    {
        _hosts = hosts;
        hosts.Reset();
    }

    private SshHost Alpha => _hosts.Alpha;

    private SshHost Beta => _hosts.Beta;

    public void Dispose()
    {
        _pwsh.Run("Get-Job | Remove-Job -Force; Get-PSSession | Remove-PSSession");
        _pwsh.Dispose();
        _hosts.Reset();
    }

    private IReadOnlyList<string> Lines(string script) => [.. _pwsh.Run(script).Output.Select(o => o.ToString())];

    [Fact]
    public void Each_VM_has_its_own_job_that_completes_with_that_VM_while_the_hosts_other_VMs_still_run()
    {
        var fast = Alpha.Launch("fast");

        // Powers off 10 minutes after the button: still running whatever the machine's load, until stopped from here.
        var slow = Alpha.Launch("slow", exitDelayMs: 600_000);
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));

        _pwsh.Run("$job = Stop-CastraVm -Session $sessions -All -CooperativeTimeout 900 -AsJob");

        // The VM jobs exist as soon as the job is returned: named after the VM, Location = the host.
        Assert.Equal([$"fast {Alpha.Address} CastraRemoteJob", $"slow {Alpha.Address} CastraRemoteJob", $"web {Beta.Address} CastraRemoteJob"],
            Lines("$job.ChildJobs.ChildJobs | ForEach-Object { '{0} {1} {2}' -f $_.Name, $_.Location, $_.PSJobTypeName }"));

        // Wait-Job -Any on alpha's VM jobs returns at the fast VM's end, while the slow one is still being waited for.
        Assert.Equal(["fast Completed"], Lines("$first = Wait-Job -Any $job.ChildJobs[0].ChildJobs -Timeout 120; $first | ForEach-Object { '{0} {1}' -f $_.Name, $_.State }"));
        Assert.True(slow.IsAlive);
        Assert.Equal(["Running", "Running"], Lines("$job.ChildJobs[0].ChildJobs[1].State; $job.ChildJobs[0].State"));
        var fastOnly = _pwsh.Run("Receive-Job $job.ChildJobs[0].ChildJobs[0]");
        Assert.Equal(Graceful, fastOnly.Events.Select(e => e.Text("Type")));
        Assert.All(fastOnly.Events, e => Assert.Equal(("fast", Alpha.Address), (e.Text("VmName"), e.Text("PSComputerName"))));
        Poll.Until(() => !fast.IsAlive, "the fast VM to exit");

        // The slow VM's guest was asked (its job has that event), and is still being waited for.
        Poll.Until(() => Lines("$job.ChildJobs[0].ChildJobs[1].Output | ForEach-Object Type").Contains("CooperativeAttempted"), "the slow VM's guest to be asked");

        // Stop-Job on one VM's job: the session runs one pipeline for the host, so the host's part is stopped, and it says so.
        var stopped = _pwsh.Run("Stop-Job $job.ChildJobs[0].ChildJobs[1]; $null = $job | Wait-Job -Timeout 120");
        Assert.Empty(stopped.Errors);
        Assert.Equal(
            ["fast Completed", "slow Stopped", $"{Alpha.Address} Stopped", "web Completed", $"{Beta.Address} Completed", "Stopped"],
            Lines("foreach ($h in $job.ChildJobs) { $h.ChildJobs | ForEach-Object { '{0} {1}' -f $_.Name, $_.State }; '{0} {1}' -f $h.Location, $h.State }; $job.State"));
        var slowOnly = _pwsh.Run("Receive-Job $job.ChildJobs[0].ChildJobs[1]");
        Assert.Contains(slowOnly.Warnings, w => w.Message.Contains("stops every VM of this call on " + Alpha.Address, StringComparison.Ordinal));
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted"], slowOnly.TypesOf("slow"));

        // Its ShutdownComplete (Cancelled) was written there after the host's pipeline was stopped: the state root has it.
        using var local = new PwshSession();
        local.Set("castraHome", Alpha.CastraHome);
        Poll.Until(() => local.Run("(Get-CastraShutdownStatus slow -StateRoot $castraHome).Outcome").Output.SingleOrDefault()?.ToString() == "Cancelled",
            "the slow VM's shutdown to end Cancelled");
        Assert.Equal(Graceful, _pwsh.Run("Receive-Job $job.ChildJobs[1].ChildJobs[0]").TypesOf("web"));
        Assert.True(slow.IsAlive);
        Assert.DoesNotContain("signal:TERM", slow.Records);
        Poll.Until(() => !betaWeb.IsAlive, "beta's VM to exit");
    }

    [Fact]
    public void A_VM_jobs_state_is_its_outcomes_and_it_holds_that_VMs_events_errors_and_PassThru_object()
    {
        var web = Alpha.Launch("web");
        var stubborn = Alpha.Launch("stubborn", "ignore-acpi");
        _pwsh.Run(_hosts.OpenSessions(Alpha));

        _pwsh.Run("$job = Stop-CastraVm -Session $sessions web, stub*, ghost -CooperativeTimeout 1 -PassThru -AsJob; $null = $job | Wait-Job -Timeout 120");

        // A wildcard resolved on the host, a literal name kept as typed (as a local call resolves them).
        Assert.Equal(["web Completed", "stubborn Completed", "ghost Failed", $"{Alpha.Address} Failed", "Failed"],
            Lines("$job.ChildJobs[0].ChildJobs | ForEach-Object { '{0} {1}' -f $_.Name, $_.State }; '{0} {1}' -f $job.ChildJobs[0].Location, $job.ChildJobs[0].State; $job.State"));

        var webJob = _pwsh.Run("Receive-Job $job.ChildJobs[0].ChildJobs[0]");
        Assert.Equal(Graceful, webJob.TypesOf("web"));
        Assert.Equal("web", webJob.Output[^1].Text("Name"));
        Assert.Contains("Deserialized.Castra.State.VmInfo", webJob.Output[^1].TypeNames);
        Assert.Empty(webJob.Errors);

        var stubbornJob = _pwsh.Run("Receive-Job $job.ChildJobs[0].ChildJobs[1]");
        Assert.Equal("Forced", stubbornJob.Events[^1].Text("Outcome"));
        Assert.Equal("stubborn", stubbornJob.Output[^1].Text("Name"));

        var ghostJob = _pwsh.Run("Receive-Job $job.ChildJobs[0].ChildJobs[2]");
        var error = Assert.Single(ghostJob.Errors);
        Assert.Equal("ghost", error.TargetObject?.ToString());
        Assert.StartsWith("CastraVmNotFound", error.FullyQualifiedErrorId, StringComparison.Ordinal);

        // The host's own job keeps no VM's error.
        Assert.Empty(_pwsh.Run("Receive-Job $job.ChildJobs[0] -NoRecurse").Errors);
        Poll.Until(() => !web.IsAlive && !stubborn.IsAlive, "both VMs to exit");
    }

    [Fact]
    public void A_host_that_went_down_gets_no_VM_jobs_and_its_error_is_in_its_own_job()
    {
        var alphaWeb = Alpha.Launch("web");
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));
        Beta.Stop();

        var returned = _pwsh.Run("$job = Stop-CastraVm -Session $sessions -All -AsJob; $null = $job | Wait-Job -Timeout 120");
        Assert.Empty(returned.Errors);

        Assert.Equal([$"{Alpha.Address} Completed: web Completed", $"{Beta.Address} Failed: ", "Failed"],
            Lines("foreach ($h in $job.ChildJobs) { '{0} {1}: {2}' -f $h.Location, $h.State, (($h.ChildJobs | ForEach-Object { '{0} {1}' -f $_.Name, $_.State }) -join ', ') }; $job.State"));
        var error = Assert.Single(_pwsh.Run("Receive-Job $job.ChildJobs[1]").Errors);
        Assert.Equal("CastraRemoteHostUnreachable", error.FullyQualifiedErrorId);
        Assert.Equal(Beta.Address, error.TargetObject);
        Assert.Equal(Graceful, _pwsh.Run("Receive-Job $job.ChildJobs[0].ChildJobs[0]").TypesOf("web"));
        Poll.Until(() => !alphaWeb.IsAlive, "alpha's VM to exit");
        Assert.True(betaWeb.IsAlive);
    }
}

using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.Json;
using Castra.PowerShell.Tests.Support;
using Castra.PowerShell.Tests.Support.Ssh;

namespace Castra.PowerShell.Tests.Remoting;

/// <summary>
/// Stop-CastraVm -Session against real SSH hosts on loopback addresses (sshd + the repository's pwsh as the
/// powershell subsystem, fake QEMU VMs under each host's CASTRA_HOME): one call, every host at once, one stream.
/// </summary>
[Collection(SshHostsGroup.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StopAcrossHostsTests : IDisposable
{
    private static readonly string[] Graceful = ["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"];
    private readonly SshHosts _hosts;
    private readonly PwshSession _pwsh = new();

    public StopAcrossHostsTests(SshHosts hosts)
    {
        _hosts = hosts;
        hosts.Reset();
    }

    private SshHost Alpha => _hosts.Alpha;

    private SshHost Beta => _hosts.Beta;

    private SshHost Gamma => _hosts.Gamma;

    public void Dispose()
    {
        _pwsh.Run("Get-PSSession | Remove-PSSession");
        _pwsh.Dispose();
        _hosts.Reset();
    }

    private static IReadOnlyList<PSObject> EventsOf(ScriptResult result, SshHost host, string vm) =>
        [.. result.Events.Where(e => e.Text("PSComputerName") == host.Address && e.Text("VmName") == vm)];

    [Fact]
    public void Events_from_every_host_arrive_tagged_with_their_host_in_order_per_VM_and_errors_keep_their_ids()
    {
        var alphaWeb = Alpha.Launch("web");
        var alphaDb = Alpha.Launch("db");
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));

        var result = _pwsh.Run("$events = Stop-CastraVm -Session $sessions web, db, ghost; $events");

        foreach (var (host, vm) in new[] { (Alpha, "web"), (Alpha, "db"), (Beta, "web") })
        {
            var events = EventsOf(result, host, vm);
            Assert.Equal(Graceful, events.Select(e => e.Text("Type")));
            Assert.Equal(Enumerable.Range(1, events.Count), events.Select(e => e.As<int>("Sequence")));
            Assert.All(events, e => Assert.Equal("Deserialized.Castra.Events." + e.Text("Type") + "Event", e.TypeNames[0]));
            Assert.Equal("Graceful", events[^1].Text("Outcome"));
        }

        Assert.Equal(12, result.Events.Count);

        // One progress bar per host, counted from its events, removed when the host is done.
        var bars = result.Progress.GroupBy(p => p.Activity).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal([$"Stop-CastraVm on {Alpha.Address}", $"Stop-CastraVm on {Beta.Address}"], bars.Keys.Order());
        Assert.Equal(2, bars.Values.Select(b => b[0].ActivityId).Distinct().Count());
        Assert.Equal("2 of 2 VM(s) done", bars[$"Stop-CastraVm on {Alpha.Address}"][^1].StatusDescription);
        Assert.All(bars.Values, b => Assert.Equal(ProgressRecordType.Completed, b[^1].RecordType));
        Poll.Until(() => !alphaWeb.IsAlive && !alphaDb.IsAlive && !betaWeb.IsAlive, "every host's VMs to exit");
        Assert.All([alphaWeb, alphaDb, betaWeb], vm => Assert.Contains("cmd:system_powerdown", vm.Records));

        // What a host's Stop-CastraVm wrote keeps its id, category and target, with the host in OriginInfo.
        var errors = result.Errors.Select(e => (Host: ((RemotingErrorRecord)e).OriginInfo.PSComputerName, Target: e.TargetObject?.ToString(), Id: e.FullyQualifiedErrorId)).ToList();
        Assert.Equal(
            [(Alpha.Address, "ghost"), (Beta.Address, "db"), (Beta.Address, "ghost")],
            errors.Select(e => (e.Host, e.Target)).Order());
        Assert.All(errors, e => Assert.StartsWith("CastraVmNotFound,", e.Id));
        Assert.All(result.Errors, e => Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category));

        // The deserialized view shows the host; the JSON a script reads has it, with names and times as strings.
        var table = _pwsh.Run("$events | Out-String -Width 80").Output.Single().ToString();
        Assert.Contains("PSComputerName", table);
        Assert.Contains(Beta.Address, table);
        Assert.Matches(@"^PSComputerName\s+Time\s+Event\r?$", table.Split('\n').First(l => l.Trim().Length > 0));
        Assert.Contains("web [4] ShutdownComplete:", table);
        var json = _pwsh.Run("$events | Select-Object PSComputerName, VmName, Type, Outcome, Timestamp | ConvertTo-Json").Output.Single().ToString()!;
        var rows = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count(r => r.GetProperty("Type").GetString() == "ShutdownComplete"));
        Assert.Contains(rows, r => r.GetProperty("PSComputerName").GetString() == Beta.Address && r.GetProperty("Outcome").GetString() == "Graceful");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", rows[0].GetProperty("Timestamp").GetString());
    }

    [Fact]
    public void A_host_that_went_down_is_that_hosts_error_only()
    {
        var alphaWeb = Alpha.Launch("web");
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));
        Beta.Stop();

        var result = _pwsh.Run("Stop-CastraVm -Session $sessions -All");

        Assert.Equal(Graceful, EventsOf(result, Alpha, "web").Select(e => e.Text("Type")));
        Assert.DoesNotContain(result.Events, e => e.Text("PSComputerName") == Beta.Address);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("CastraRemoteHostUnreachable,", error.FullyQualifiedErrorId);
        Assert.Equal(Beta.Address, error.TargetObject);
        Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
        Assert.Contains($"New-PSSession -HostName {Beta.Address}", error.ErrorDetails.Message);
        Poll.Until(() => !alphaWeb.IsAlive, "alpha's VM to exit");
        Assert.True(betaWeb.IsAlive);

        // Under -ErrorAction Stop the reachable hosts still run their whole part; then one terminating error names the host.
        var alphaDb = Alpha.Launch("db");
        var stopped = _pwsh.RunExpectingTermination("Stop-CastraVm -Session $sessions db -ErrorAction Stop");
        Assert.Equal("CastraVmsNotStopped,Castra.PowerShell.Commands.StopCastraVmCommand", stopped.FullyQualifiedErrorId);
        Assert.Contains($"{Beta.Address}: CastraRemoteHostUnreachable", stopped.Exception.Message);
        Poll.Until(() => !alphaDb.IsAlive, "alpha's db to exit");
        Assert.True(betaWeb.IsAlive);
    }

    [Fact]
    public void With_a_deadline_a_host_that_stops_answering_is_left_and_the_call_ends()
    {
        var alphaWeb = Alpha.Launch("web");
        Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));
        Beta.Freeze();
        try
        {
            // Worst case 4 s per host, within -Deadline 6: beta never answers, alpha stops its VM.
            using var ps = _pwsh.Prepare("Stop-CastraVm -Session $sessions -All -Deadline 6 -CooperativeTimeout 2 -TermTimeout 1 -KillTimeout 1");
            var running = ps.BeginInvoke();

            // Not a timing assertion: without a bound the call never ends; the margin is far beyond the deadline.
            var ended = running.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(120));
            if (!ended)
            {
                Beta.Thaw();
                ps.Stop();
            }

            Assert.True(ended, "Stop-CastraVm -Session -Deadline 6 did not end while one host did not answer");
            var result = ScriptResult.From(ps, ps.EndInvoke(running));
            Assert.Equal(Graceful, EventsOf(result, Alpha, "web").Select(e => e.Text("Type")));
            Poll.Until(() => !alphaWeb.IsAlive, "alpha's VM to exit");
            var error = Assert.Single(result.Errors);
            Assert.StartsWith("CastraRemoteHostUnreachable,", error.FullyQualifiedErrorId);
            Assert.Equal(Beta.Address, error.TargetObject);
            Assert.Equal(ErrorCategory.OperationTimeout, error.CategoryInfo.Category);
            Assert.Contains("-Deadline", error.ErrorDetails.Message);
        }
        finally
        {
            Beta.Thaw();
        }
    }

    [Fact]
    public async Task Ctrl_C_leaves_a_host_that_does_not_answer()
    {
        var alphaWeb = Alpha.Launch("web");
        Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));
        Beta.Freeze();
        try
        {
            using var ps = _pwsh.Prepare("Stop-CastraVm -Session $sessions -All");
            var running = ps.BeginInvoke();
            Poll.Until(() => !alphaWeb.IsAlive, "alpha's VM to exit");

            // Stop() returns once every host's part has ended or been left (30 s after it was asked to stop); a hung
            // host's pipeline must not be waited for again when it is let go.
            var stopped = Task.Run(ps.Stop);
            var ended = await Task.WhenAny(stopped, Task.Delay(TimeSpan.FromSeconds(120))) == stopped;
            if (!ended)
            {
                Beta.Thaw();
            }

            Assert.True(ended, "Ctrl+C did not end the call while one host did not answer");
            Assert.True(running.IsCompleted);
        }
        finally
        {
            Beta.Thaw();
        }
    }

    [Fact]
    public void A_host_without_the_module_or_with_another_version_is_refused_with_how_to_install_it()
    {
        var alphaWeb = Alpha.Launch("web");
        var betaWeb = Beta.Launch("web");
        var gammaWeb = Gamma.Launch("web");
        Beta.InstallModule("0.0.9");
        Gamma.RemoveModule();
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta, Gamma));

        var result = _pwsh.Run("Stop-CastraVm -Session $sessions -All");

        Assert.Equal(Graceful, EventsOf(result, Alpha, "web").Select(e => e.Text("Type")));
        Assert.Equal(2, result.Errors.Count);
        var version = Assert.Single(result.Errors, e => Equals(e.TargetObject, Beta.Address));
        Assert.StartsWith("CastraRemoteModuleVersion,", version.FullyQualifiedErrorId);
        Assert.Contains("Castra 0.0.9, not 0.1.0", version.ErrorDetails.Message);
        var missing = Assert.Single(result.Errors, e => Equals(e.TargetObject, Gamma.Address));
        Assert.StartsWith("CastraRemoteModuleMissing,", missing.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.NotInstalled, missing.CategoryInfo.Category);
        Assert.All(result.Errors, e =>
        {
            Assert.Contains("Copy-Item -ToSession", e.ErrorDetails.Message);
            Assert.Contains("./build.ps1 -Task Package", e.ErrorDetails.Message);
        });
        Assert.True(betaWeb.IsAlive);
        Assert.True(gammaWeb.IsAlive);
        Poll.Until(() => !alphaWeb.IsAlive, "alpha's VM to exit");

        // The documented remedy, through the same session: copy the loaded module there, then the host takes part.
        var installed = _pwsh.Run("""
            $source = Split-Path (Get-Module Castra).Path
            $version = (Get-Module Castra).Version
            $destination = Invoke-Command -Session $sessions[2] {
                param($v) $d = "$HOME/.local/share/powershell/Modules/Castra/$v"; $null = New-Item -ItemType Directory -Force (Split-Path $d); $d
            } -ArgumentList $version
            Copy-Item -ToSession $sessions[2] -Recurse -Path $source -Destination $destination
            Stop-CastraVm -Session $sessions[2] -All
            """);
        Assert.Empty(installed.Errors);
        Assert.Equal(Graceful, EventsOf(installed, Gamma, "web").Select(e => e.Text("Type")));
        Poll.Until(() => !gammaWeb.IsAlive, "gamma's VM to exit");
    }

    [Fact]
    public void AsJob_gives_one_child_job_per_host_with_that_hosts_events()
    {
        var alphaWeb = Alpha.Launch("web");
        var betaWeb = Beta.Launch("web");
        var betaDb = Beta.Launch("db");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));

        var job = Assert.Single(_pwsh.Run("$job = Stop-CastraVm -Session $sessions -All -AsJob; $job").Output);
        Assert.Equal("CastraRemoteJob", job.Text("PSJobTypeName"));
        _pwsh.Run("$null = $job | Wait-Job -Timeout 120");

        Assert.Equal("Completed", _pwsh.Run("$job.State").Output.Single().ToString());
        var children = _pwsh.Run("$job.ChildJobs | ForEach-Object { '{0} {1}' -f $_.Location, $_.State }").Output.Select(o => o.ToString());
        Assert.Equal([$"{Alpha.Address} Completed", $"{Beta.Address} Completed"], children);
        var betaOnly = _pwsh.Run("Receive-Job $job.ChildJobs[1]");
        Assert.All(betaOnly.Events, e => Assert.Equal(Beta.Address, e.Text("PSComputerName")));
        Assert.Equal(Graceful, betaOnly.TypesOf("db"));
        Assert.Equal(Graceful, betaOnly.TypesOf("web"));
        var all = _pwsh.Run("Receive-Job $job.ChildJobs[0]");
        Assert.Equal(Graceful, all.TypesOf("web"));
        Assert.All(all.Events, e => Assert.Equal(Alpha.Address, e.Text("PSComputerName")));
        Poll.Until(() => !alphaWeb.IsAlive && !betaWeb.IsAlive && !betaDb.IsAlive, "every VM to exit");
    }

    [Fact]
    public void WhatIf_previews_each_hosts_plan_there_and_touches_nothing()
    {
        var alphaWeb = Alpha.Launch("web");
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));

        var result = _pwsh.Run("Stop-CastraVm -Session $sessions web -WhatIf");

        Assert.Empty(result.Output);
        Assert.Empty(result.Errors);
        var lines = _pwsh.Host.Interface.Lines.Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToList();
        // Each host's own line, then that host's own plan, read there.
        Assert.Equal(4, lines.Count);
        Assert.StartsWith($"What if: Stop VM(s) 'web' on {Alpha.Address}", lines[0]);
        Assert.StartsWith("What if: Stop VM 'web' (Running): ACPI power button", lines[1]);
        Assert.StartsWith($"What if: Stop VM(s) 'web' on {Beta.Address}", lines[2]);
        Assert.StartsWith("What if: Stop VM 'web' (Running): ACPI power button", lines[3]);
        Assert.True(alphaWeb.IsAlive);
        Assert.True(betaWeb.IsAlive);
        Assert.DoesNotContain("cmd:system_powerdown", alphaWeb.Records);
        Assert.DoesNotContain("cmd:system_powerdown", betaWeb.Records);
    }

    [Fact]
    public void Deadline_is_checked_on_every_host_against_that_hosts_plan_and_ThrottleLimit_applies_on_each_host()
    {
        var alphaWeb = Alpha.Launch("web");
        var alphaDb = Alpha.Launch("db");
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));

        // The default worst case (75 s) does not fit in 10 s on either host: each host refuses, nothing starts.
        var refused = _pwsh.Run("Stop-CastraVm -Session $sessions -All -Deadline 10");

        Assert.Empty(refused.Events);
        Assert.Equal([Alpha.Address, Beta.Address], refused.Errors.Select(e => ((RemotingErrorRecord)e).OriginInfo.PSComputerName).Order());
        Assert.All(refused.Errors, e => Assert.StartsWith("CastraDeadlineExceeded,", e.FullyQualifiedErrorId));
        Assert.True(alphaWeb.IsAlive && alphaDb.IsAlive && betaWeb.IsAlive);

        // A 9 s worst case per VM: beta's one VM fits, alpha's two, one at a time (-ThrottleLimit 1, on each host), do
        // not; alpha alone is refused, against what was left of the deadline when it started, and beta goes ahead.
        var split = _pwsh.Run("Stop-CastraVm -Session $sessions -All -Deadline 10 -CooperativeTimeout 5 -TermTimeout 2 -KillTimeout 2 -ThrottleLimit 1");
        var over = Assert.Single(split.Errors);
        Assert.StartsWith("CastraDeadlineExceeded,", over.FullyQualifiedErrorId);
        Assert.Equal(Alpha.Address, ((RemotingErrorRecord)over).OriginInfo.PSComputerName);
        var left = System.Text.RegularExpressions.Regex.Match(over.ToString(), @"past the deadline of (\d+(\.\d+)?)s");
        Assert.True(left.Success, over.ToString());
        Assert.InRange(double.Parse(left.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0.001, 9.999);
        Assert.Equal(Graceful, EventsOf(split, Beta, "web").Select(e => e.Text("Type")));
        Assert.DoesNotContain(split.Events, e => e.Text("PSComputerName") == Alpha.Address);
        Assert.True(alphaWeb.IsAlive && alphaDb.IsAlive);

        // With room for both rounds, alpha stops its VMs one at a time.
        var done = _pwsh.Run("Stop-CastraVm -Session $sessions[0] -All -Deadline 30 -CooperativeTimeout 5 -TermTimeout 2 -KillTimeout 2 -ThrottleLimit 1");
        Assert.Empty(done.Errors);
        Assert.Equal(Graceful, EventsOf(done, Alpha, "db").Select(e => e.Text("Type")));
        Assert.Equal(Graceful, EventsOf(done, Alpha, "web").Select(e => e.Text("Type")));
        // One at a time: the first VM's four events, then the second's.
        var types = done.Events.Select(e => e.Text("VmName")).ToList();
        Assert.Equal(8, types.Count);
        Assert.Single(types.Take(4).Distinct());
        Assert.Single(types.Skip(4).Distinct());
    }

    [Fact]
    public void Ctrl_C_stops_every_hosts_part_and_their_VMs_end_Cancelled()
    {
        var alphaWeb = Alpha.Launch("web", "ignore-acpi");
        var betaWeb = Beta.Launch("web", "ignore-acpi");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));

        using var ps = _pwsh.Prepare("Stop-CastraVm -Session $sessions -All");
        var running = ps.BeginInvoke();
        // Both guests were asked (and ignore it): each host is inside its 60 s cooperative window.
        Poll.Until(() => alphaWeb.Records.Contains("cmd:system_powerdown") && betaWeb.Records.Contains("cmd:system_powerdown"), "both hosts to press the power button");
        ps.Stop();
        Assert.True(running.IsCompleted);

        using var local = new PwshSession();
        foreach (var host in new[] { Alpha, Beta })
        {
            local.Set("castraHome", host.CastraHome);
            Poll.Until(() => local.Run("(Get-CastraShutdownStatus web -StateRoot $castraHome).Outcome").Output.SingleOrDefault()?.ToString() == "Cancelled",
                $"the shutdown on {host.Address} to end Cancelled");
        }

        Assert.True(alphaWeb.IsAlive);
        Assert.True(betaWeb.IsAlive);
        Assert.DoesNotContain("signal:TERM", alphaWeb.Records);
        Assert.DoesNotContain("signal:TERM", betaWeb.Records);
    }

    [Fact]
    public void Stop_Job_on_one_hosts_child_job_stops_that_host_only()
    {
        var alphaWeb = Alpha.Launch("web", "ignore-acpi");
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));

        _pwsh.Run("$job = Stop-CastraVm -Session $sessions -All -AsJob");
        Poll.Until(() => alphaWeb.Records.Contains("cmd:system_powerdown"), "alpha to press the power button");
        _pwsh.Run("Stop-Job $job.ChildJobs[0]; $null = $job | Wait-Job -Timeout 120");

        var states = _pwsh.Run("$job.ChildJobs | ForEach-Object { '{0} {1}' -f $_.Location, $_.State }; $job.State").Output.Select(o => o.ToString());
        Assert.Equal([$"{Alpha.Address} Stopped", $"{Beta.Address} Completed", "Stopped"], states);
        Assert.Equal(Graceful, _pwsh.Run("Receive-Job $job.ChildJobs[1]").TypesOf("web"));
        Poll.Until(() => !betaWeb.IsAlive, "beta's VM to exit");
        Assert.True(alphaWeb.IsAlive);
        Assert.DoesNotContain("signal:TERM", alphaWeb.Records);
    }

    [Fact]
    public void Piped_VMs_of_a_host_are_stopped_on_that_host_only_and_never_taken_for_local_ones()
    {
        var alphaWeb = Alpha.Launch("web");
        var alphaDb = Alpha.Launch("db");
        var betaWeb = Beta.Launch("web");
        _pwsh.Run(_hosts.OpenSessions(Alpha, Beta));
        _pwsh.Set("alpha", Alpha.Address);

        // Without -Session the objects name another host's VMs: refused, though their StateRoot exists here too.
        var refused = _pwsh.Run("Get-CastraVm -Session $sessions web | Where-Object PSComputerName -eq $alpha | Stop-CastraVm");
        Assert.Empty(refused.Events);
        var error = Assert.Single(refused.Errors);
        Assert.StartsWith("CastraVmOnAnotherHost,", error.FullyQualifiedErrorId);
        Assert.Equal("web", error.TargetObject);
        Assert.True(alphaWeb.IsAlive);

        // With -Session each object goes to its own host: alpha stops web and db, beta (whose web was not piped) nothing.
        var stopped = _pwsh.Run("Get-CastraVm -Session $sessions | Where-Object PSComputerName -eq $alpha | Stop-CastraVm -Session $sessions");
        Assert.Empty(stopped.Errors);
        Assert.Equal(Graceful, EventsOf(stopped, Alpha, "web").Select(e => e.Text("Type")));
        Assert.Equal(Graceful, EventsOf(stopped, Alpha, "db").Select(e => e.Text("Type")));
        Assert.DoesNotContain(stopped.Events, e => e.Text("PSComputerName") == Beta.Address);
        Poll.Until(() => !alphaWeb.IsAlive && !alphaDb.IsAlive, "alpha's VMs to exit");
        Assert.True(betaWeb.IsAlive);
    }
}

using System.Management.Automation;
using System.Text.Json;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>Shutdown order in real PowerShell: Start-CastraVm -ShutdownOrder, Stop-CastraVm -WhatIf/-Deadline/-All in groups, progress while a group waits.</summary>
public sealed class ShutdownOrderTests : IDisposable
{
    private readonly FakeStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private PwshSession Session() => new PwshSession(new ScriptedHost()).Set("root", _root.Path).Set("fake", FakeQemu.Path);

    private void Order(string vm, int order) =>
        File.WriteAllText(Path.Combine(_root.VmDirectory(vm), "vm.json"), $"{{\"ShutdownOrder\": {order}}}");

    private int RecordedOrder(string vm)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root.VmDirectory(vm), "vm.json")));
        return json.RootElement.GetProperty("ShutdownOrder").GetInt32();
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1001")]
    [InlineData("'ten'")]
    [InlineData("1.5")]
    [InlineData("'2.5'")]
    public void ShutdownOrder_out_of_range_or_not_a_whole_number_is_refused_at_binding(string value)
    {
        using var pwsh = Session();

        var result = pwsh.Run($"Start-CastraVm web -Kernel /bin/sh -QemuPath $fake -Accelerator tcg -ShutdownOrder {value} -StateRoot $root");

        // Refused by PowerShell's binder (validation, conversion, or the whole-number check before conversion).
        var error = Assert.Single(result.Errors);
        Assert.Matches("^(ParameterArgumentValidationError|ParameterArgumentTransformationError|CannotConvertArgumentNoMessage),Castra.PowerShell.Commands.StartCastraVmCommand$",
            error.FullyQualifiedErrorId);
        Assert.Contains("ShutdownOrder", error.Exception.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_root.VmDirectory("web")));
    }

    [Fact]
    public void WhatIf_shows_the_groups_and_the_worst_case_of_the_order_then_All_stops_group_by_group()
    {
        using var pwsh = Session();

        // web is started by the cmdlet (its order recorded); db and cache are fakes with orders of their own.
        var started = pwsh.Run("Start-CastraVm web -Kernel /bin/sh -QemuPath $fake -Accelerator tcg -ShutdownOrder 10 -StateRoot $root -PassThru");
        Assert.Empty(started.Errors);
        Assert.Equal(10, RecordedOrder("web"));
        _root.Launch("db");
        Order("db", 20);
        var cache = _root.Launch("cache", exitDelayMs: 300);

        var whatIf = pwsh.Run("Stop-CastraVm -All -StateRoot $root -WhatIf -CooperativeTimeout 2 -TermTimeout 1 -KillTimeout 1 -GroupDelay 3");

        Assert.Empty(whatIf.Errors);
        var lines = pwsh.Host.Interface.Lines.Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Contains("in their shutdown order: group 1 (order 0: cache), group 2 (order 10: web) after ≤7s, group 3 (order 20: db) after ≤14s", lines[0], StringComparison.Ordinal);
        Assert.Contains("worst case of the whole order 18s", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("What if: Stop VM 'cache' (Running) in group 1 (order 0):", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("What if: Stop VM 'web' (Running) in group 2 (order 10, starts within 7s):", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("What if: Stop VM 'db' (Running) in group 3 (order 20, starts within 14s):", lines[3], StringComparison.Ordinal);
        Assert.True(cache.IsAlive);

        // The same plan refuses a deadline the order cannot fit, though every VM alone fits it.
        var refused = pwsh.RunExpectingTermination("Stop-CastraVm -All -StateRoot $root -CooperativeTimeout 2 -TermTimeout 1 -KillTimeout 1 -GroupDelay 3 -Deadline 10");
        Assert.StartsWith("CastraDeadlineExceeded", refused.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.LimitsExceeded, refused.CategoryInfo.Category);
        Assert.True(cache.IsAlive);

        var result = pwsh.Run("Stop-CastraVm -All -StateRoot $root -Verbose");

        Assert.Empty(result.Errors);
        DateTime At(string vm, string type) => result.Events.Single(e => e.Text("VmName") == vm && e.Text("Type") == type).As<DateTime>("Timestamp");
        Assert.True(At("cache", "ShutdownComplete") <= At("web", "ShutdownRequested"));
        Assert.True(At("web", "ShutdownComplete") <= At("db", "ShutdownRequested"));
        Assert.Equal(20, result.Events.Single(e => e.Text("VmName") == "db" && e.Text("Type") == "ShutdownRequested").As<int>("ShutdownOrder"));

        // While the first group stops, the later VMs show as waiting, not as nothing.
        Assert.Contains(result.Progress, p => p.Activity == "Stopping VM db" && p.StatusDescription.Contains("waiting for group", StringComparison.Ordinal));
        Assert.Contains(result.Verbose, v => v.Message.Contains("waiting for group 1 (order 0: cache)", StringComparison.Ordinal));
        Assert.All(result.Progress.GroupBy(p => p.ActivityId), a => Assert.Equal(ProgressRecordType.Completed, a.Last().RecordType));
    }

    [Fact]
    public void IgnoreOrder_stops_every_vm_at_once()
    {
        _root.Launch("web", exitDelayMs: 400);
        Order("web", 1);
        _root.Launch("db", exitDelayMs: 400);
        Order("db", 2);
        using var pwsh = Session();

        var result = pwsh.Run("Stop-CastraVm web, db -StateRoot $root -IgnoreOrder");

        Assert.Empty(result.Errors);
        DateTime At(string vm, string type) => result.Events.Single(e => e.Text("VmName") == vm && e.Text("Type") == type).As<DateTime>("Timestamp");
        Assert.True(At("db", "ShutdownRequested") < At("web", "ShutdownComplete"));
        Assert.DoesNotContain(result.Progress, p => p.StatusDescription.Contains("waiting for group", StringComparison.Ordinal));
    }

    [Fact]
    public void Stopping_the_pipeline_while_a_group_waits_leaves_that_group_untouched()
    {
        var slow = _root.Launch("slow", "ignore-acpi");
        Order("slow", 1);
        var db = _root.Launch("db");
        Order("db", 2);
        using var pwsh = Session();
        using var ps = pwsh.Prepare("Stop-CastraVm slow, db -StateRoot $root -CooperativeTimeout 600");
        var output = new PSDataCollection<PSObject>();
        var invocation = ps.BeginInvoke<PSObject, PSObject>(null, output);
        Poll.Until(() => slow.Records.Contains("cmd:system_powerdown") && output.Any(e => e.Text("Type") == "CooperativeAttempted"),
            "the first group's ACPI button press and its event");

        ps.Stop();

        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(invocation));
        Assert.DoesNotContain(output, e => e.Text("VmName") == "db");
        Assert.True(db.IsAlive);
        Assert.DoesNotContain("qmp-connect", db.Records);
        Assert.Empty(pwsh.Run("Get-CastraShutdownStatus db -StateRoot $root").Output);
        Assert.True(slow.IsAlive);
    }

    [Fact]
    public void Set_CastraVm_changes_the_order_by_name_or_pipeline_and_reports_a_damaged_vm_json_per_vm()
    {
        var web1 = _root.Launch("web1");
        _root.Launch("web2");
        _root.Launch("db");
        File.WriteAllText(Path.Combine(_root.VmDirectory("db"), "vm.json"), "{ damaged");
        using var pwsh = Session();

        var passThru = pwsh.Run("Set-CastraVm web1 -ShutdownOrder 20 -StateRoot $root -PassThru");
        Assert.Empty(passThru.Errors);
        Assert.Equal(20, Assert.Single(passThru.Output).As<int>("ShutdownOrder"));
        Assert.True(web1.IsAlive);

        var piped = pwsh.Run("Get-CastraVm web* -StateRoot $root | Set-CastraVm -ShutdownOrder 10");
        Assert.Empty(piped.Errors);
        Assert.Empty(piped.Output);
        Assert.Equal(10, RecordedOrder("web1"));
        Assert.Equal(10, RecordedOrder("web2"));

        var whatIf = pwsh.Run("Set-CastraVm web1 -ShutdownOrder 99 -StateRoot $root -WhatIf");
        Assert.Empty(whatIf.Output);
        Assert.Equal(10, RecordedOrder("web1"));

        var damaged = pwsh.Run("Set-CastraVm db, web2 -ShutdownOrder 30 -StateRoot $root");
        var error = Assert.Single(damaged.Errors);
        Assert.StartsWith("CastraVmDefinitionInvalid", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal("db", error.TargetObject);
        Assert.Equal(30, RecordedOrder("web2"));
        Assert.Equal("{ damaged", File.ReadAllText(Path.Combine(_root.VmDirectory("db"), "vm.json")));

        var fraction = pwsh.Run("Set-CastraVm web1 -ShutdownOrder 2.5 -StateRoot $root");
        Assert.Single(fraction.Errors);
        Assert.Equal(10, RecordedOrder("web1"));
    }

    [Fact]
    public void AsJob_stops_the_groups_in_order_and_the_waiting_childs_progress_says_so()
    {
        _root.Launch("web", exitDelayMs: 300);
        Order("web", 1);
        _root.Launch("db");
        Order("db", 2);
        using var pwsh = Session();

        var job = (Job)Assert.Single(pwsh.Run("$job = Stop-CastraVm web, db -StateRoot $root -AsJob; $job").Output).BaseObject;
        pwsh.Run("$null = Wait-Job $job -Timeout 60");

        Assert.Equal(JobState.Completed, job.JobStateInfo.State);

        // Read before Receive-Job, which drains the children's streams.
        var db = job.ChildJobs.Single(c => c.Name == "db");
        Assert.Contains(db.Progress, p => p.StatusDescription.Contains("waiting for group 1 (order 1: web)", StringComparison.Ordinal));
        Assert.Equal(ProgressRecordType.Completed, db.Progress.Last().RecordType);
        var events = pwsh.Run("Receive-Job $job").Events;
        DateTime At(string vm, string type) => events.Single(e => e.Text("VmName") == vm && e.Text("Type") == type).As<DateTime>("Timestamp");
        Assert.True(At("web", "ShutdownComplete") <= At("db", "ShutdownRequested"));
    }
}

using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>The table views of Castra.Format.ps1xml as PowerShell loaded them (Get-FormatData) and as it renders them (Out-String).</summary>
public sealed partial class FormattingTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public FormattingTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    [GeneratedRegex(@"\$_\.(\w+)")]
    private static partial Regex PropertyUse();

    private IReadOnlyList<string> Rendered(string script, int width = 200) =>
        [.. string.Concat(_pwsh.Run($"{script} | Out-String -Width {width}").Output.Select(o => o.ToString()))
            .Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0)];

    [Fact]
    public void Every_view_selects_a_loaded_type_and_names_only_its_properties()
    {
        var definitions = _pwsh.Run("Get-FormatData -TypeName 'Castra.*'").Output.Select(o => (ExtendedTypeDefinition)o.BaseObject).ToList();
        Assert.Equal(
            ["Castra.Events.ShutdownEvent", "Castra.Hooks.CleanupHook", "Castra.Launch.VmReadiness", "Castra.Sessions.VmSession", "Castra.State.ShutdownStatus", "Castra.State.VmInfo"],
            definitions.Select(d => d.TypeName).Order(StringComparer.Ordinal));

        // Every view also serves what Start-Job, Invoke-Command and Import-Clixml give back (no methods there).
        var deserialized = new List<ExtendedTypeDefinition>();
        foreach (var live in definitions)
        {
            _pwsh.Set("name", "Deserialized." + live.TypeName);
            var found = _pwsh.Run("Get-FormatData -TypeName $name").Output.Select(o => (ExtendedTypeDefinition)o.BaseObject).ToList();
            Assert.True(found.Count > 0, $"no view for Deserialized.{live.TypeName}");
            deserialized.AddRange(found);
        }

        var coreAssembly = ((CmdletInfo)_pwsh.Run("Get-Command Stop-CastraVm").Output[0].BaseObject).OutputType[0].Type.Assembly;
        foreach (var definition in definitions.Concat(deserialized))
        {
            var type = coreAssembly.GetType(definition.TypeName.Replace("Deserialized.", "", StringComparison.Ordinal));
            Assert.True(type is not null, $"the view for {definition.TypeName} selects no type of Castra.Core");
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToHashSet();
            var table = (TableControl)Assert.Single(definition.FormatViewDefinition).Control;
            var columns = Assert.Single(table.Rows).Columns;
            Assert.Equal(table.Headers.Count, columns.Count);
            foreach (var entry in columns.Select(c => c.DisplayEntry))
            {
                var used = entry.ValueType == DisplayEntryValueType.Property
                    ? [entry.Value]
                    : PropertyUse().Matches(entry.Value).Select(m => m.Groups[1].Value);
                Assert.All(used, name => Assert.True(properties.Contains(name) || name == "PSComputerName", $"{definition.TypeName} has no property {name}"));
            }
        }
    }

    [Fact]
    public void Live_events_render_one_line_each_with_the_full_vm_name_at_80_columns()
    {
        const string name = "database-primary-eu-west-1a";
        _root.Launch(name);
        _root.Launch("database-primary-eu-west-1b");

        var lines = Rendered($"Stop-CastraVm {name}, database-primary-eu-west-1b -StateRoot $root", width: 80);

        Assert.Matches(@"^Time\s+Event$", lines[0]);
        Assert.Equal(2 + 8, lines.Count); // header, rule, four events per VM: one line each
        Assert.All(lines, l => Assert.True(l.Length <= 80, l));
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^\d\d:\d\d:\d\d\.\d{{3}} {name} \[1\] ShutdownRequested: shutdown req"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^\d\d:\d\d:\d\d\.\d{3} database-primary-eu-west-1b \[2\] CooperativeAttempted: sent "));
        Assert.Equal(4, lines.Count(l => l.Contains(name, StringComparison.Ordinal)));
    }

    [Fact]
    public void Sequence_ten_and_up_stays_on_one_line_in_Format_Table()
    {
        _root.Launch("web");
        for (var i = 0; i < 5; i++)
        {
            _pwsh.Run($"Register-CastraCleanupHook h{i} -FilePath /bin/true -StateRoot $root");
        }

        var lines = Rendered("Stop-CastraVm web -StateRoot $root | Format-Table", width: 80);

        Assert.Contains(lines, l => Regex.IsMatch(l, @"\bweb \[14\] ShutdownComplete: Graceful in \d+ ms; hooks: 5 succeeded"));
        Assert.Equal(2 + 14, lines.Count);
    }

    [Fact]
    public void Deserialized_events_keep_their_table_their_milliseconds_and_show_the_computer()
    {
        _root.Launch("web");

        var live = _pwsh.Run("Stop-CastraVm web -StateRoot $root").Events;
        _pwsh.Set("events", live.ToArray());
        var back = _pwsh.Run("[System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($events))").Output;
        var lines = Rendered("$x = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($events)); $x | ForEach-Object { $_.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'host1')) }; $x", width: 80);

        Assert.Equal(live.Select(e => (DateTime)e.Properties["Timestamp"].Value), back.Select(e => (DateTime)e.Properties["Timestamp"].Value));
        Assert.All(back, e => Assert.Equal(DateTimeKind.Utc, ((DateTime)e.Properties["Timestamp"].Value).Kind));
        Assert.Matches(@"^PSComputerName\s+Time\s+Event$", lines[0]);
        string[] types = ["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"];
        for (var i = 0; i < types.Length; i++)
        {
            Assert.Matches($@"^host1\s+\d\d:\d\d:\d\d\.\d{{3}} web \[{i + 1}\] {types[i]}: \S", lines[i + 2]);
        }
    }

    [Fact]
    public void Vms_and_hooks_render_their_tables()
    {
        var web = _root.Launch("database-primary-eu-west-1a");

        var vms = Rendered("Get-CastraVm -StateRoot $root", width: 80);
        Assert.Matches(@"^Name\s+State\s+Pid\s+Uptime\s+LastOutcome\s+Saved$", vms[0]);
        Assert.Matches($@"^database-primary-eu-west-1a\s+Running\s+{web.Pid}\s+0\.\d\d:\d\d:\d\d$", vms[2]);

        var hooks = Rendered("Register-CastraCleanupHook export-the-database -VmName database-primary-eu-west-1a -FilePath /bin/echo -ArgumentList one, two -Priority 50 -StateRoot $root -PassThru", width: 80);
        Assert.Matches(@"^Name\s+VmName\s+Stage\s+Priority\s+Timeout$", hooks[0]);
        Assert.Matches(@"^export-the-database\s+database-primary-eu-west-1a\s+PreStop\s+50\s+5s$", hooks[2]);

        var sessions = Rendered("Start-CastraVmSession -VmName database-primary-eu-west-1a -FilePath /bin/sh -ArgumentList '-c', 'exit 0' -Wait -StateRoot $root", width: 80);
        Assert.Matches(@"^VmName\s+Status\s+Pid\s+Started\s+Command$", sessions[0]);
        Assert.Matches(@"^database-primary-eu-west-1a\s+Stopped\s+\d+\s+\d\d:\d\d:\d\d\s+/bin/sh -c 'exit 0'$", sessions[2]);

        _pwsh.Run("Stop-CastraVm database-primary-eu-west-1a -StateRoot $root");
        var status = Rendered("Get-CastraShutdownStatus -StateRoot $root", width: 80);
        Assert.Matches(@"^VmName\s+State\s+Phase\s+Outcome\s+Remaining$", status[0]);
        Assert.Matches(@"^database-primary-eu-west-1a\s+Complete\s+Complete\s+Graceful$", status[2]);
        Assert.All(vms.Concat(hooks).Concat(sessions).Concat(status), l => Assert.True(l.Length <= 80, l));
    }
}

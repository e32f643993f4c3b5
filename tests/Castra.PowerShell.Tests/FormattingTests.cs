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

    private IReadOnlyList<string> Rendered(string script) =>
        [.. string.Concat(_pwsh.Run($"{script} | Out-String -Width 200").Output.Select(o => o.ToString()))
            .Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0)];

    [Fact]
    public void Every_view_selects_a_loaded_type_and_names_only_its_properties()
    {
        var definitions = _pwsh.Run("Get-FormatData -TypeName 'Castra.*'").Output.Select(o => (ExtendedTypeDefinition)o.BaseObject).ToList();
        Assert.Equal(
            ["Castra.Events.ShutdownEvent", "Castra.Hooks.CleanupHook", "Castra.Sessions.VmSession", "Castra.State.ShutdownStatus", "Castra.State.VmInfo"],
            definitions.Select(d => d.TypeName).Order(StringComparer.Ordinal));

        var coreAssembly = ((CmdletInfo)_pwsh.Run("Get-Command Stop-CastraVm").Output[0].BaseObject).OutputType[0].Type.Assembly;
        foreach (var definition in definitions)
        {
            var type = coreAssembly.GetType(definition.TypeName);
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
                Assert.All(used, name => Assert.True(properties.Contains(name), $"{definition.TypeName} has no property {name}"));
            }
        }
    }

    [Fact]
    public void Live_events_render_as_one_table_with_time_vm_sequence_type_and_the_steps_sentence()
    {
        _root.Launch("web");

        var lines = Rendered("Stop-CastraVm web -StateRoot $root");

        Assert.Matches(@"^Time\s+VmName\s+#\s+Type\s+Detail$", lines[0]);
        Assert.Equal(6, lines.Count); // header, rule, four events
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3}\s+web\s+1 ShutdownRequested\s+shutdown requested \(UserRequested\)$", lines[2]);
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3}\s+web\s+2 CooperativeAttempted\s+sent ACPI power button, waiting up to 60s$", lines[3]);
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3}\s+web\s+4 ShutdownComplete\s+Graceful in \d+ ms$", lines[5]);
    }

    [Fact]
    public void Deserialized_events_render_in_the_same_table_with_their_vm_and_type()
    {
        _root.Launch("web");

        var lines = Rendered("[System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize(@(Stop-CastraVm web -StateRoot $root)))");

        Assert.Matches(@"^Time\s+VmName\s+#\s+Type\s+Detail$", lines[0]);
        Assert.Equal(6, lines.Count);
        string[] types = ["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"];
        for (var i = 0; i < types.Length; i++)
        {
            Assert.Matches($@"\bweb\s+{i + 1} {types[i]}\b", lines[i + 2]);
        }
    }

    [Fact]
    public void Vms_and_hooks_render_their_tables()
    {
        var web = _root.Launch("web");

        var vms = Rendered("Get-CastraVm -StateRoot $root");
        Assert.Matches(@"^Name\s+State\s+Pid\s+Qmp\s+Agent\s+Uptime\s+LastOutcome$", vms[0]);
        Assert.Matches($@"^web\s+Running\s+{web.Pid}\s+True\s+False\s+0\.\d\d:\d\d:\d\d$", vms[2]);

        var hooks = Rendered("Register-CastraCleanupHook export -FilePath /bin/echo -ArgumentList one, two -Priority 50 -StateRoot $root -PassThru");
        Assert.Matches(@"^Name\s+VmName\s+Stage\s+Priority\s+Timeout\s+Kind\s+Command$", hooks[0]);
        Assert.Matches(@"^export\s+\*\s+PreStop\s+50\s+5s\s+Executable\s+/bin/echo one two$", hooks[2]);
    }
}

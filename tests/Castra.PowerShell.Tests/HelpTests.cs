using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// Help as Get-Help shows it from the module's en-US/Castra.dll-Help.xml, checked against what Get-Command says
/// about the loaded cmdlets (in the spirit of PSScriptAnalyzer's ModuleHelp tests): every cmdlet, parameter set and
/// parameter documented, with the binding facts (mandatory, position, pipeline input, wildcards, aliases, type) right.
/// </summary>
public sealed class HelpTests : IDisposable
{
    /// <summary>Verbose, ErrorAction, …: documented once by about_CommonParameters. WhatIf and Confirm are documented per cmdlet.</summary>
    private static readonly HashSet<string> CommonParameters = [.. System.Management.Automation.Cmdlet.CommonParameters];

    private readonly PwshSession _pwsh = new();

    public void Dispose() => _pwsh.Dispose();

    public static TheoryData<string> Cmdlets() =>
    [
        "Get-CastraCleanupHook", "Get-CastraShutdownStatus", "Get-CastraVm", "Get-CastraVmSession", "Register-CastraCleanupHook",
        "Register-CastraHostShutdown", "Restart-CastraVm", "Set-CastraVm", "Start-CastraVm", "Start-CastraVmSession", "Stop-CastraVm",
        "Unregister-CastraCleanupHook", "Unregister-CastraHostShutdown", "Wait-CastraVm",
    ];

    private (CmdletInfo Command, PSObject Help) Load(string name)
    {
        _pwsh.Set("name", name);
        var command = (CmdletInfo)Assert.Single(_pwsh.Run("Get-Command $name -Module Castra").Output).BaseObject;
        var help = Assert.Single(_pwsh.Run("Get-Help $name -Full").Output);
        return (command, help);
    }

    private static IEnumerable<PSObject> Items(object? value) => value switch
    {
        null => [],
        PSObject { BaseObject: object[] many } => many.Select(PSObject.AsPSObject),
        object[] many => many.Select(PSObject.AsPSObject),
        var one => [PSObject.AsPSObject(one)],
    };

    private static string Paragraphs(object? description) => string.Join("\n", Items(description).Select(p => p.Text("Text")));

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_cmdlet_has_a_written_synopsis_description_and_two_examples_one_with_ConvertTo_Json(string name)
    {
        var (_, help) = Load(name);

        // Without a help file Get-Help makes a synopsis up from the syntax ("Stop-CastraVm [-Name] <string[]> ...").
        var synopsis = help.Text("Synopsis")!.Trim();
        Assert.False(string.IsNullOrWhiteSpace(synopsis), $"{name} has no synopsis");
        Assert.False(synopsis.StartsWith(name, StringComparison.OrdinalIgnoreCase), $"{name}: the synopsis is generated, not written: {synopsis}");
        Assert.True(Paragraphs(help.Value("description")).Length > 100, $"{name} has no real description");

        var examples = Items(((PSObject)help.Value("examples")!).Value("example")).ToList();
        Assert.True(examples.Count >= 2, $"{name} has {examples.Count} examples");
        Assert.All(examples, e => Assert.False(string.IsNullOrWhiteSpace(e.Text("code")), $"{name}: an example without code"));
        Assert.Contains(examples, e => e.Text("code")!.Contains("ConvertTo-Json", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_parameter_is_documented_with_its_type_aliases_and_wildcard_support(string name)
    {
        var (command, help) = Load(name);
        var documented = Items(((PSObject)help.Value("parameters")!).Value("parameter")).ToDictionary(p => p.Text("name")!);
        var actual = command.Parameters.Values.Where(p => !CommonParameters.Contains(p.Name)).ToDictionary(p => p.Name);

        Assert.Equal(actual.Keys.Order(), documented.Keys.Order());
        foreach (var (parameterName, parameter) in actual)
        {
            var doc = documented[parameterName];
            var label = $"{name} -{parameterName}";
            Assert.False(string.IsNullOrWhiteSpace(Paragraphs(doc.Value("description"))), $"{label} has no description");
            Assert.Equal(TypeName(parameter.ParameterType), ((PSObject)doc.Value("type")!).Text("name"));
            Assert.Equal(parameter.Aliases.Count == 0 ? "none" : string.Join(", ", parameter.Aliases), doc.Text("aliases"));
            Assert.Equal(parameter.Attributes.OfType<SupportsWildcardsAttribute>().Any(), bool.Parse(doc.Text("globbing")!));
        }
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_parameter_set_has_a_syntax_entry_with_the_binding_rules_PowerShell_applies(string name)
    {
        var (command, help) = Load(name);
        var syntax = Items(((PSObject)help.Value("syntax")!).Value("syntaxItem"))
            .Select(item => Items(item.Value("parameter")).ToDictionary(p => p.Text("name")!))
            .ToList();
        Assert.Equal(command.ParameterSets.Count, syntax.Count);

        foreach (var set in command.ParameterSets)
        {
            var parameters = set.Parameters.Where(p => !CommonParameters.Contains(p.Name)).ToList();
            var names = parameters.Select(p => p.Name).ToHashSet();
            var entry = syntax.SingleOrDefault(s => s.Keys.ToHashSet().SetEquals(names));
            Assert.True(entry is not null, $"{name}: no syntax entry documents set {set.Name} ({string.Join(", ", names.Order())})");
            foreach (var parameter in parameters)
            {
                var doc = entry[parameter.Name];
                var label = $"{name} -{parameter.Name} in set {set.Name}";
                Assert.True(parameter.IsMandatory == bool.Parse(doc.Text("required")!), $"{label}: required");
                Assert.True((parameter.Position < 0 ? "named" : parameter.Position.ToString(System.Globalization.CultureInfo.InvariantCulture)) == doc.Text("position"), $"{label}: position {doc.Text("position")}");
                Assert.True(PipelineText(parameter) == doc.Text("pipelineInput"), $"{label}: pipeline input '{doc.Text("pipelineInput")}', PowerShell binds '{PipelineText(parameter)}'");
            }
        }
    }

    [Fact]
    public void The_about_topic_is_found_by_Get_Help_and_names_every_cmdlet()
    {
        var about = string.Concat(_pwsh.Run("Get-Help about_Castra").Output.Select(o => o.ToString()));
        Assert.StartsWith("TOPIC", about.TrimStart(), StringComparison.Ordinal);
        foreach (var name in Cmdlets())
        {
            Assert.Contains(name, about, StringComparison.Ordinal);
        }
    }

    /// <summary>The type name platyPS writes: the short .NET name (SwitchParameter for switches), without Nullable.</summary>
    private static string TypeName(Type type) => (Nullable.GetUnderlyingType(type) ?? type).Name;

    private static string PipelineText(CommandParameterInfo parameter) => (parameter.ValueFromPipeline, parameter.ValueFromPipelineByPropertyName) switch
    {
        (true, true) => "True (ByPropertyName, ByValue)",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "False",
    };
}

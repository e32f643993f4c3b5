using System.Reflection;
using System.Text.RegularExpressions;

namespace Castra.PowerShell.Tests;

/// <summary>Names, parameters, parameter sets, pipeline bindings, output types and manifest exports, as PowerShell sees them.</summary>
[Collection(ModuleGroup.Name)]
public sealed class CmdletMetadataTests(ModuleMetadata module)
{
    private static readonly string[] ExpectedCommands = ["Get-CastraShutdownStatus", "Get-CastraVm", "Start-CastraVm", "Stop-CastraVm"];

    [Fact]
    public void The_module_exports_exactly_its_cmdlets()
    {
        Assert.Equal(ExpectedCommands, module.Cmdlets.Select(ModuleMetadata.CommandName).Order());
    }

    [Fact]
    public void Verbs_are_approved_nouns_singular_and_classes_follow_the_convention()
    {
        var approved = module.Automation.GetExportedTypes()
            .Where(t => t.Name.StartsWith("Verbs", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet();
        Assert.Contains("Stop", approved);

        foreach (var cmdlet in module.Cmdlets)
        {
            var attribute = ModuleMetadata.Attribute(cmdlet, "CmdletAttribute")!;
            var verb = (string)attribute.ConstructorArguments[0].Value!;
            var noun = (string)attribute.ConstructorArguments[1].Value!;
            Assert.Contains(verb, approved);
            Assert.StartsWith("Castra", noun);
            Assert.True(!noun.EndsWith('s') || noun.EndsWith("Status", StringComparison.Ordinal), $"{noun} looks plural");
            Assert.Equal($"{verb}{noun}Command", cmdlet.Name);
            Assert.True(cmdlet.IsSealed, $"{cmdlet.Name} is sealed");
            Assert.Equal("Castra.PowerShell.Commands", cmdlet.Namespace);
        }
    }

    [Fact]
    public void Every_cmdlet_declares_its_output_and_takes_a_state_root()
    {
        foreach (var cmdlet in module.Cmdlets)
        {
            Assert.NotEmpty(ModuleMetadata.Attributes(cmdlet, "OutputTypeAttribute"));
            Assert.Contains(ModuleMetadata.Parameters(cmdlet), p => p.Name == "StateRoot" && p.PropertyType.FullName == "System.String");
        }
    }

    [Fact]
    public void State_changing_cmdlets_support_should_process()
    {
        Assert.True(ModuleMetadata.SupportsShouldProcess(module.Cmdlet("Stop-CastraVm")));
        Assert.True(ModuleMetadata.SupportsShouldProcess(module.Cmdlet("Start-CastraVm")));
        Assert.False(ModuleMetadata.SupportsShouldProcess(module.Cmdlet("Get-CastraVm")));
    }

    [Fact]
    public void Stop_CastraVm_has_the_documented_parameters_and_sets()
    {
        var stop = module.Cmdlet("Stop-CastraVm");
        var cmdlet = ModuleMetadata.Attribute(stop, "CmdletAttribute")!;
        Assert.Equal("Name", ModuleMetadata.Named<string>(cmdlet, "DefaultParameterSetName"));
        var parameters = ModuleMetadata.Parameters(stop).ToDictionary(p => p.Name);

        var name = parameters["Name"];
        Assert.Equal("System.String[]", name.PropertyType.FullName);
        var nameBinding = ModuleMetadata.Attributes(name, "ParameterAttribute").Single();
        Assert.Equal("Name", ModuleMetadata.Named<string>(nameBinding, "ParameterSetName"));
        Assert.Equal(0, ModuleMetadata.Named<int>(nameBinding, "Position"));
        Assert.True(ModuleMetadata.Named<bool>(nameBinding, "Mandatory"));
        Assert.True(ModuleMetadata.Named<bool>(nameBinding, "ValueFromPipeline"));
        Assert.True(ModuleMetadata.Named<bool>(nameBinding, "ValueFromPipelineByPropertyName"));
        Assert.NotNull(ModuleMetadata.Attribute(name, "SupportsWildcardsAttribute"));
        var aliases = (IEnumerable<CustomAttributeTypedArgument>)ModuleMetadata.Attribute(name, "AliasAttribute")!.ConstructorArguments[0].Value!;
        Assert.Contains("VmName", aliases.Select(a => (string)a.Value!));

        var input = parameters["InputObject"];
        Assert.Equal("Castra.State.VmInfo[]", input.PropertyType.FullName);
        var inputBinding = ModuleMetadata.Attributes(input, "ParameterAttribute").Single();
        Assert.Equal("InputObject", ModuleMetadata.Named<string>(inputBinding, "ParameterSetName"));
        Assert.True(ModuleMetadata.Named<bool>(inputBinding, "ValueFromPipeline"));

        Assert.Equal("All", ModuleMetadata.Named<string>(ModuleMetadata.Attributes(parameters["All"], "ParameterAttribute").Single(), "ParameterSetName"));
        foreach (var seconds in new[] { "CooperativeTimeout", "TermTimeout", "KillTimeout", "Deadline" })
        {
            Assert.Equal("System.Double", parameters[seconds].PropertyType.FullName);
            var range = ModuleMetadata.Attribute(parameters[seconds], "ValidateRangeAttribute")!;
            Assert.Equal([0.001, 86400.0], range.ConstructorArguments.Select(a => Convert.ToDouble(a.Value, System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal("Castra.Shutdown.CooperativeMethod", parameters["Method"].PropertyType.FullName);
        Assert.Equal("Castra.Shutdown.ShutdownReason", parameters["Reason"].PropertyType.FullName);
        foreach (var flag in new[] { "Force", "AsJob", "All" })
        {
            Assert.Equal(ModuleMetadata.Sma + "SwitchParameter", parameters[flag].PropertyType.FullName);
        }

        Assert.Equal("System.Int32", parameters["ThrottleLimit"].PropertyType.FullName);
        Assert.Equal("System.String", parameters["Message"].PropertyType.FullName);

        var outputs = ModuleMetadata.Attributes(stop, "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments.SelectMany(Flatten)).Select(t => t.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "ShutdownRequestedEvent", "CooperativeAttemptedEvent", "CooperativeSucceededEvent", "CooperativeTimedOutEvent", "EscalationEvent", "ShutdownCompleteEvent", "CastraShutdownJob" }, outputs);
    }

    [Fact]
    public void Every_name_parameter_completes_vm_names()
    {
        foreach (var cmdlet in module.Cmdlets)
        {
            var name = ModuleMetadata.Parameters(cmdlet).Single(p => p.Name == "Name");
            var completer = ModuleMetadata.Attribute(name, "ArgumentCompleterAttribute");
            Assert.NotNull(completer);
            Assert.Equal("Castra.PowerShell.VmNameCompleter", ((Type)completer.ConstructorArguments[0].Value!).FullName);
        }
    }

    [Fact]
    public void Get_cmdlets_take_wildcards_and_pipeline_names()
    {
        foreach (var command in new[] { "Get-CastraVm", "Get-CastraShutdownStatus" })
        {
            var name = ModuleMetadata.Parameters(module.Cmdlet(command)).Single(p => p.Name == "Name");
            var binding = ModuleMetadata.Attributes(name, "ParameterAttribute").Single();
            Assert.False(ModuleMetadata.Named<bool>(binding, "Mandatory"));
            Assert.True(ModuleMetadata.Named<bool>(binding, "ValueFromPipelineByPropertyName"));
            Assert.NotNull(ModuleMetadata.Attribute(name, "SupportsWildcardsAttribute"));
        }
    }

    [Fact]
    public void Start_CastraVm_boots_a_kernel_or_a_disk_and_can_pass_the_vm_through()
    {
        var parameters = ModuleMetadata.Parameters(module.Cmdlet("Start-CastraVm")).ToDictionary(p => p.Name);
        Assert.Equal(["Kernel"], ModuleMetadata.Attributes(parameters["Kernel"], "ParameterAttribute").Select(a => ModuleMetadata.Named<string>(a, "ParameterSetName")));
        Assert.Equal(["Disk", "Kernel"], ModuleMetadata.Attributes(parameters["Disk"], "ParameterAttribute").Select(a => ModuleMetadata.Named<string>(a, "ParameterSetName")).Order());
        foreach (var expected in new[] { "Name", "Initrd", "Append", "Ephemeral", "MemoryMB", "CpuCount", "GuestAgent", "CooperativeTimeout", "TermTimeout", "KillTimeout", "PassThru" })
        {
            Assert.Contains(expected, parameters.Keys);
        }
    }

    [Fact]
    public void Output_objects_are_flat_and_json_friendly()
    {
        var friendly = new HashSet<string> { "System.String", "System.Int32", "System.Int64", "System.Boolean", "System.DateTimeOffset" };
        var outputs = module.Cmdlets
            .SelectMany(c => ModuleMetadata.Attributes(c, "OutputTypeAttribute"))
            .SelectMany(a => a.ConstructorArguments.SelectMany(Flatten))
            .Where(t => t.Assembly == module.Core)
            .Distinct()
            .ToList();
        Assert.True(outputs.Count >= 8);
        foreach (var type in outputs)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var propertyType = property.PropertyType;
                if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition().FullName == "System.Nullable`1")
                {
                    propertyType = propertyType.GetGenericArguments()[0];
                }

                Assert.True(friendly.Contains(propertyType.FullName!), $"{type.Name}.{property.Name} is {property.PropertyType}");
            }
        }
    }

    [Fact]
    public void The_manifest_exports_exactly_the_cmdlets_and_nothing_else()
    {
        var manifest = File.ReadAllText(Path.Combine(ModuleMetadata.RepositoryRoot, "Castra.psd1"));
        Assert.Equal(ExpectedCommands, ListOf(manifest, "CmdletsToExport").Order());
        Assert.Empty(ListOf(manifest, "FunctionsToExport"));
        Assert.Empty(ListOf(manifest, "VariablesToExport"));
        Assert.Empty(ListOf(manifest, "AliasesToExport"));
        Assert.Equal(["Core"], ListOf(manifest, "CompatiblePSEditions"));
        Assert.Equal(["Castra.Format.ps1xml"], ListOf(manifest, "FormatsToProcess"));
        Assert.Matches(@"RootModule\s*=\s*'Castra\.dll'", manifest);
        Assert.Matches(@"PowerShellVersion\s*=\s*'7\.4'", manifest);

        var props = File.ReadAllText(Path.Combine(ModuleMetadata.RepositoryRoot, "Directory.Build.props"));
        var version = Regex.Match(props, "<VersionPrefix>(.*)</VersionPrefix>").Groups[1].Value;
        Assert.Matches($@"ModuleVersion\s*=\s*'{Regex.Escape(version)}'", manifest);
        Assert.Equal(version, module.Module.GetName().Version!.ToString(3));
    }

    private static IEnumerable<Type> Flatten(CustomAttributeTypedArgument argument) =>
        argument.Value switch
        {
            Type type => [type],
            IEnumerable<CustomAttributeTypedArgument> many => many.SelectMany(Flatten),
            _ => [],
        };

    private static List<string> ListOf(string manifest, string key)
    {
        var match = Regex.Match(manifest, key + @"\s*=\s*@\(([^)]*)\)");
        Assert.True(match.Success, $"{key} is an explicit @() list");
        return Regex.Matches(match.Groups[1].Value, "'([^']*)'").Select(m => m.Groups[1].Value).ToList();
    }
}

using System.Reflection;
using System.Text.RegularExpressions;

namespace Castra.PowerShell.Tests;

/// <summary>Names, parameters, parameter sets, pipeline bindings, output types and manifest exports, as PowerShell sees them.</summary>
[Collection(ModuleGroup.Name)]
public sealed class CmdletMetadataTests(ModuleMetadata module)
{
    private static readonly string[] ExpectedCommands =
    [
        "Get-CastraCleanupHook", "Get-CastraShutdownStatus", "Get-CastraVm", "Get-CastraVmSession", "Register-CastraCleanupHook",
        "Start-CastraVm", "Start-CastraVmSession", "Stop-CastraVm", "Unregister-CastraCleanupHook",
    ];

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
        foreach (var cmdlet in module.Cmdlets)
        {
            var name = ModuleMetadata.CommandName(cmdlet);
            Assert.True(ModuleMetadata.SupportsShouldProcess(cmdlet) == !name.StartsWith("Get-", StringComparison.Ordinal), $"{name}: SupportsShouldProcess");
        }

        var unregister = ModuleMetadata.Attribute(module.Cmdlet("Unregister-CastraCleanupHook"), "CmdletAttribute")!;
        Assert.Equal(2, ModuleMetadata.Named<int>(unregister, "ConfirmImpact")); // Medium
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
    public void Vm_and_hook_name_parameters_complete_names()
    {
        foreach (var cmdlet in module.Cmdlets)
        {
            var command = ModuleMetadata.CommandName(cmdlet);
            var hookCmdlet = command.EndsWith("-CastraCleanupHook", StringComparison.Ordinal);
            foreach (var parameter in ModuleMetadata.Parameters(cmdlet).Where(p => p.Name is "Name" or "VmName"))
            {
                // -Name is a VM's name except on the hook cmdlets, where it is the hook's (a new one for Register).
                var expected = parameter.Name == "VmName" || !hookCmdlet ? "Castra.PowerShell.VmNameCompleter"
                    : command.StartsWith("Register-", StringComparison.Ordinal) ? null
                    : "Castra.PowerShell.HookNameCompleter";
                var completer = ModuleMetadata.Attribute(parameter, "ArgumentCompleterAttribute");
                Assert.Equal(expected, completer is null ? null : ((Type)completer.ConstructorArguments[0].Value!).FullName);
            }
        }

        Assert.Equal(9, module.Cmdlets.Count(c => ModuleMetadata.Parameters(c).Any(p => p.Name is "Name" or "VmName")));
    }

    [Fact]
    public void Get_cmdlets_take_wildcards_and_pipeline_names()
    {
        foreach (var (command, parameter) in new[] { ("Get-CastraVm", "Name"), ("Get-CastraShutdownStatus", "Name"), ("Get-CastraCleanupHook", "Name"), ("Get-CastraVmSession", "VmName") })
        {
            var name = ModuleMetadata.Parameters(module.Cmdlet(command)).Single(p => p.Name == parameter);
            Assert.Equal("System.String[]", name.PropertyType.FullName);
            Assert.Equal(0, ModuleMetadata.Named<int>(ModuleMetadata.Attributes(name, "ParameterAttribute").Single(), "Position"));
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
    public void Register_CastraCleanupHook_takes_a_script_block_or_a_program()
    {
        var register = module.Cmdlet("Register-CastraCleanupHook");
        Assert.Equal("ScriptBlock", ModuleMetadata.Named<string>(ModuleMetadata.Attribute(register, "CmdletAttribute")!, "DefaultParameterSetName"));
        var parameters = ModuleMetadata.Parameters(register).ToDictionary(p => p.Name);

        var name = Binding(parameters["Name"]);
        Assert.True(ModuleMetadata.Named<bool>(name, "Mandatory"));
        Assert.Equal(0, ModuleMetadata.Named<int>(name, "Position"));
        Assert.Null(ModuleMetadata.Named<string>(name, "ParameterSetName"));

        Assert.Equal(ModuleMetadata.Sma + "ScriptBlock", parameters["ScriptBlock"].PropertyType.FullName);
        var scriptBlock = Binding(parameters["ScriptBlock"]);
        Assert.Equal("ScriptBlock", ModuleMetadata.Named<string>(scriptBlock, "ParameterSetName"));
        Assert.True(ModuleMetadata.Named<bool>(scriptBlock, "Mandatory"));

        Assert.Equal("System.String", parameters["FilePath"].PropertyType.FullName);
        var filePath = Binding(parameters["FilePath"]);
        Assert.Equal("FilePath", ModuleMetadata.Named<string>(filePath, "ParameterSetName"));
        Assert.True(ModuleMetadata.Named<bool>(filePath, "Mandatory"));

        Assert.Equal("System.String[]", parameters["ArgumentList"].PropertyType.FullName);
        var arguments = Binding(parameters["ArgumentList"]);
        Assert.Equal("FilePath", ModuleMetadata.Named<string>(arguments, "ParameterSetName"));
        Assert.False(ModuleMetadata.Named<bool>(arguments, "Mandatory"));

        // Everything else applies to both kinds of hook.
        foreach (var shared in new[] { "VmName", "Stage", "Priority", "Timeout", "Force", "PassThru", "StateRoot" })
        {
            Assert.Null(ModuleMetadata.Named<string>(Binding(parameters[shared]), "ParameterSetName"));
            Assert.False(ModuleMetadata.Named<bool>(Binding(parameters[shared]), "Mandatory"));
        }

        Assert.Equal("Castra.Hooks.HookStage", parameters["Stage"].PropertyType.FullName);
        Assert.Equal("System.Int32", parameters["Priority"].PropertyType.FullName);
        Assert.Equal([11, 1000], Range(parameters["Priority"]));
        Assert.Equal("System.Double", parameters["Timeout"].PropertyType.FullName);
        Assert.Equal([0.001, 86400.0], Range(parameters["Timeout"]));
        Assert.Equal(ModuleMetadata.Sma + "SwitchParameter", parameters["Force"].PropertyType.FullName);
        Assert.Equal(ModuleMetadata.Sma + "SwitchParameter", parameters["PassThru"].PropertyType.FullName);
    }

    [Fact]
    public void Unregister_CastraCleanupHook_takes_hooks_from_the_pipeline_or_names()
    {
        var unregister = module.Cmdlet("Unregister-CastraCleanupHook");
        Assert.Equal("Name", ModuleMetadata.Named<string>(ModuleMetadata.Attribute(unregister, "CmdletAttribute")!, "DefaultParameterSetName"));
        var parameters = ModuleMetadata.Parameters(unregister).ToDictionary(p => p.Name);

        var input = parameters["InputObject"];
        Assert.Equal("Castra.Hooks.CleanupHook[]", input.PropertyType.FullName);
        var inputBinding = Binding(input);
        Assert.Equal("InputObject", ModuleMetadata.Named<string>(inputBinding, "ParameterSetName"));
        Assert.True(ModuleMetadata.Named<bool>(inputBinding, "Mandatory"));
        Assert.True(ModuleMetadata.Named<bool>(inputBinding, "ValueFromPipeline"));

        var name = Binding(parameters["Name"]);
        Assert.Equal("Name", ModuleMetadata.Named<string>(name, "ParameterSetName"));
        Assert.True(ModuleMetadata.Named<bool>(name, "Mandatory"));
        Assert.Equal(0, ModuleMetadata.Named<int>(name, "Position"));
        Assert.Null(ModuleMetadata.Attribute(parameters["Name"], "SupportsWildcardsAttribute")); // removal is by exact name
        Assert.Equal("Name", ModuleMetadata.Named<string>(Binding(parameters["VmName"]), "ParameterSetName"));

        // The piped hook's StateRoot property binds -StateRoot, so it is removed where it is registered.
        Assert.True(ModuleMetadata.Named<bool>(Binding(parameters["StateRoot"]), "ValueFromPipelineByPropertyName"));
    }

    [Fact]
    public void Hook_and_session_cmdlets_declare_their_output_types()
    {
        foreach (var (command, type) in new[]
        {
            ("Register-CastraCleanupHook", "Castra.Hooks.CleanupHook"),
            ("Get-CastraCleanupHook", "Castra.Hooks.CleanupHook"),
            ("Unregister-CastraCleanupHook", "Castra.Hooks.CleanupHook"),
            ("Start-CastraVmSession", "Castra.Sessions.VmSession"),
            ("Get-CastraVmSession", "Castra.Sessions.VmSession"),
        })
        {
            var outputs = ModuleMetadata.Attributes(module.Cmdlet(command), "OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments.SelectMany(Flatten)).Select(t => t.FullName).ToList();
            Assert.Equal([type], outputs);
        }
    }

    [Fact]
    public void Session_cmdlets_have_the_documented_parameters()
    {
        var start = ModuleMetadata.Parameters(module.Cmdlet("Start-CastraVmSession")).ToDictionary(p => p.Name);
        var vmName = Binding(start["VmName"]);
        Assert.True(ModuleMetadata.Named<bool>(vmName, "Mandatory"));
        Assert.Equal(0, ModuleMetadata.Named<int>(vmName, "Position"));
        var filePath = Binding(start["FilePath"]);
        Assert.True(ModuleMetadata.Named<bool>(filePath, "Mandatory"));
        Assert.Equal(1, ModuleMetadata.Named<int>(filePath, "Position"));
        Assert.Equal("System.String[]", start["ArgumentList"].PropertyType.FullName);
        Assert.Equal(ModuleMetadata.Sma + "SwitchParameter", start["Wait"].PropertyType.FullName);

        var get = ModuleMetadata.Parameters(module.Cmdlet("Get-CastraVmSession")).ToDictionary(p => p.Name);
        Assert.Equal("System.Nullable`1", get["Status"].PropertyType.GetGenericTypeDefinition().FullName);
        Assert.Equal("Castra.Sessions.SessionStatus", get["Status"].PropertyType.GetGenericArguments()[0].FullName);
    }

    [Fact]
    public void Stop_CastraVm_controls_hooks_sessions_and_the_snapshot()
    {
        var stop = module.Cmdlet("Stop-CastraVm");
        var parameters = ModuleMetadata.Parameters(stop).ToDictionary(p => p.Name);
        Assert.Equal("Castra.Hooks.HookErrorAction", parameters["HookErrorAction"].PropertyType.FullName);
        Assert.Equal("System.Double", parameters["DrainTimeout"].PropertyType.FullName);
        Assert.Equal([0.0, 86400.0], Range(parameters["DrainTimeout"]));
        Assert.Equal(ModuleMetadata.Sma + "SwitchParameter", parameters["SaveState"].PropertyType.FullName);
        foreach (var name in new[] { "HookErrorAction", "DrainTimeout", "SaveState" })
        {
            Assert.Null(ModuleMetadata.Named<string>(Binding(parameters[name]), "ParameterSetName"));
        }

        var outputs = ModuleMetadata.Attributes(stop, "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments.SelectMany(Flatten)).Select(t => t.Name).ToHashSet();
        Assert.Contains("HookStartedEvent", outputs);
        Assert.Contains("HookCompletedEvent", outputs);
    }

    [Fact]
    public void Output_objects_are_flat_and_json_friendly()
    {
        // Scalars, and lists of strings (a program's arguments): ConvertTo-Json renders all of them fully at its default depth.
        var friendly = new HashSet<string> { "System.String", "System.Int32", "System.Int64", "System.UInt64", "System.Boolean", "System.DateTimeOffset" };
        var outputs = module.Cmdlets
            .SelectMany(c => ModuleMetadata.Attributes(c, "OutputTypeAttribute"))
            .SelectMany(a => a.ConstructorArguments.SelectMany(Flatten))
            .Where(t => t.Assembly == module.Core)
            .Distinct()
            .ToList();
        Assert.True(outputs.Count >= 12);
        Assert.Contains(outputs, t => t.FullName == "Castra.Hooks.CleanupHook");
        Assert.Contains(outputs, t => t.FullName == "Castra.Sessions.VmSession");
        foreach (var type in outputs)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var propertyType = property.PropertyType;
                if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition().FullName == "System.Nullable`1")
                {
                    propertyType = propertyType.GetGenericArguments()[0];
                }

                var stringList = propertyType.IsGenericType
                    && propertyType.GetGenericTypeDefinition().FullName == "System.Collections.Generic.IReadOnlyList`1"
                    && propertyType.GetGenericArguments()[0].FullName == "System.String";
                Assert.True(stringList || friendly.Contains(propertyType.FullName!), $"{type.Name}.{property.Name} is {property.PropertyType}");
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

    private static CustomAttributeData Binding(PropertyInfo parameter) => ModuleMetadata.Attributes(parameter, "ParameterAttribute").Single();

    private static IEnumerable<double> Range(PropertyInfo parameter) =>
        ModuleMetadata.Attribute(parameter, "ValidateRangeAttribute")!.ConstructorArguments
            .Select(a => Convert.ToDouble(a.Value, System.Globalization.CultureInfo.InvariantCulture));

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

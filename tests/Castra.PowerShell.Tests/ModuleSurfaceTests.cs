using System.Management.Automation;
using System.Runtime.Versioning;
using System.Xml.Linq;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// The module as PowerShell loads it: exports, manifest, verbs, output types, ShouldProcess, parameter sets and
/// completion, read from Get-Command / Test-ModuleManifest / CommandMetadata of the imported module rather than
/// from the assembly's metadata or the C# source. Nothing here needs MetadataLoadContext any more: every fact the old
/// metadata checks read (attributes, parameter sets, output types, sealed classes) the loaded module shows as well.
/// </summary>
public sealed class ModuleSurfaceTests : IDisposable
{
    private static readonly string[] ExpectedCmdlets =
    [
        "Get-CastraCleanupHook", "Get-CastraShutdownStatus", "Get-CastraVm", "Get-CastraVmSession", "Register-CastraCleanupHook",
        "Register-CastraHostShutdown", "Restart-CastraVm", "Set-CastraVm", "Start-CastraVm", "Start-CastraVmSession", "Stop-CastraVm",
        "Unregister-CastraCleanupHook", "Unregister-CastraHostShutdown", "Wait-CastraVm",
    ];

    private readonly PwshSession _pwsh = new();

    public void Dispose() => _pwsh.Dispose();

    private CmdletInfo Command(string name) => (CmdletInfo)Assert.Single(_pwsh.Run($"Get-Command {name} -Module Castra").Output).BaseObject;

    private IReadOnlyList<CmdletInfo> Commands() => [.. _pwsh.Run("Get-Command -Module Castra").Output.Select(o => (CmdletInfo)o.BaseObject)];

    private static ParameterSetMetadata InSet(ParameterMetadata parameter, string set) => parameter.ParameterSets[set];

    private static ParameterSetMetadata InAllSets(ParameterMetadata parameter) => parameter.ParameterSets[ParameterAttribute.AllParameterSets];

    [Fact]
    public void It_exports_exactly_the_cmdlets_its_manifest_lists_and_nothing_else()
    {
        var exported = Commands();
        Assert.Equal(ExpectedCmdlets, exported.Select(c => c.Name).Order());
        Assert.All(exported, c => Assert.Equal(CommandTypes.Cmdlet, c.CommandType));

        var module = (PSModuleInfo)Assert.Single(_pwsh.Run("Get-Module Castra").Output).BaseObject;
        Assert.Equal(ExpectedCmdlets, module.ExportedCmdlets.Keys.Order());
        Assert.Empty(module.ExportedFunctions);
        Assert.Empty(module.ExportedAliases);
        Assert.Empty(module.ExportedVariables);

        foreach (var manifest in new[] { BuiltModule.Manifest, BuiltModule.Repo("Castra.psd1") })
        {
            _pwsh.Set("manifest", manifest);
            var data = (System.Collections.Hashtable)Assert.Single(_pwsh.Run("Import-PowerShellDataFile $manifest").Output).BaseObject;
            Assert.Equal(ExpectedCmdlets, ((object[])data["CmdletsToExport"]!).Cast<string>().Order());
            foreach (var key in new[] { "FunctionsToExport", "VariablesToExport", "AliasesToExport" })
            {
                Assert.Empty((object[])data[key]!);
            }
        }
    }

    [Fact]
    public void The_manifest_is_valid_and_takes_its_version_from_Directory_Build_props()
    {
        var version = XDocument.Load(BuiltModule.Repo("Directory.Build.props")).Descendants("VersionPrefix").Single().Value;
        foreach (var manifest in new[] { BuiltModule.Manifest, BuiltModule.Repo("Castra.psd1") })
        {
            _pwsh.Set("manifest", manifest);
            var info = (PSModuleInfo)Assert.Single(_pwsh.Run("Test-ModuleManifest $manifest").Output).BaseObject;
            Assert.Equal(version, info.Version.ToString(3));
            Assert.Equal("Castra.dll", info.RootModule);
            Assert.Equal(new Version(7, 4), info.PowerShellVersion);
            Assert.Equal(["Core"], info.CompatiblePSEditions);
            Assert.Equal(["Castra.Format.ps1xml"], info.ExportedFormatFiles.Select(Path.GetFileName));
            Assert.Contains("QEMU", info.Tags);
        }

        var assembly = Command("Stop-CastraVm").ImplementingType.Assembly;
        Assert.Equal(version, assembly.GetName().Version!.ToString(3));
    }

    [Fact]
    public void The_module_assembly_targets_net8_and_PowerShell_Standard_so_it_loads_in_PowerShell_7_4()
    {
        var assembly = Command("Stop-CastraVm").ImplementingType.Assembly;
        Assert.Equal(".NETCoreApp,Version=v8.0", assembly.GetCustomAttributes(typeof(TargetFrameworkAttribute), false).Cast<TargetFrameworkAttribute>().Single().FrameworkName);
        var automation = assembly.GetReferencedAssemblies().Single(a => a.Name == "System.Management.Automation");
        Assert.True(automation.Version! < new Version(7, 4), $"references System.Management.Automation {automation.Version}: PowerShell 7.4 could not load it");

        // PowerShell brings its own System.Management.Automation: the module folder must not ship one.
        Assert.Equal(["Castra.Core.dll", "Castra.Format.ps1xml", "Castra.deps.json", "Castra.dll", "Castra.psd1"],
            Directory.GetFiles(BuiltModule.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Verbs_are_approved_nouns_are_singular_and_classes_follow_the_convention()
    {
        var approved = _pwsh.Run("(Get-Verb).Verb").Output.Select(o => o.ToString()).ToHashSet();
        foreach (var cmdlet in Commands())
        {
            Assert.Contains(cmdlet.Verb, approved);
            Assert.StartsWith("Castra", cmdlet.Noun, StringComparison.Ordinal);
            Assert.True(!cmdlet.Noun.EndsWith('s') || cmdlet.Noun.EndsWith("Status", StringComparison.Ordinal), $"{cmdlet.Noun} looks plural");
            Assert.Equal($"{cmdlet.Verb}{cmdlet.Noun}Command", cmdlet.ImplementingType.Name);
            Assert.True(cmdlet.ImplementingType.IsSealed, $"{cmdlet.ImplementingType.Name} is sealed");
            Assert.Equal("Castra.PowerShell.Commands", cmdlet.ImplementingType.Namespace);
        }
    }

    [Fact]
    public void Every_cmdlet_declares_its_output_types_and_takes_a_state_root_by_property_name()
    {
        foreach (var cmdlet in Commands())
        {
            Assert.NotEmpty(cmdlet.OutputType);
            Assert.All(cmdlet.OutputType, t => Assert.True(t.Type is not null, $"{cmdlet.Name}: output type {t.Name} does not resolve"));
            if (cmdlet.Name == "Unregister-CastraHostShutdown")
            {
                // It acts on a unit file (-UnitDirectory, -UnitName), not on a state root: a -StateRoot would do nothing.
                Assert.False(cmdlet.Parameters.ContainsKey("StateRoot"));
                continue;
            }

            var stateRoot = cmdlet.Parameters["StateRoot"];
            Assert.Equal(typeof(string), stateRoot.ParameterType);
            Assert.True(InAllSets(stateRoot).ValueFromPipelineByPropertyName, $"{cmdlet.Name} -StateRoot by property name");
        }
    }

    [Fact]
    public void State_changing_cmdlets_support_ShouldProcess_at_their_impact()
    {
        var expected = new Dictionary<string, ConfirmImpact?>
        {
            ["Get-CastraCleanupHook"] = null,
            ["Get-CastraShutdownStatus"] = null,
            ["Get-CastraVm"] = null,
            ["Get-CastraVmSession"] = null,
            ["Register-CastraCleanupHook"] = ConfirmImpact.Low,
            ["Restart-CastraVm"] = ConfirmImpact.Medium,
            ["Set-CastraVm"] = ConfirmImpact.Low,
            ["Start-CastraVm"] = ConfirmImpact.Low,
            ["Start-CastraVmSession"] = ConfirmImpact.Low,
            ["Stop-CastraVm"] = ConfirmImpact.Medium,
            ["Unregister-CastraCleanupHook"] = ConfirmImpact.Medium,
            ["Register-CastraHostShutdown"] = ConfirmImpact.Medium,
            ["Unregister-CastraHostShutdown"] = ConfirmImpact.Medium,
            ["Wait-CastraVm"] = null,
        };
        foreach (var cmdlet in Commands())
        {
            var metadata = new CommandMetadata(cmdlet);
            Assert.Equal(expected[cmdlet.Name] is not null, metadata.SupportsShouldProcess);
            Assert.Equal(metadata.SupportsShouldProcess, cmdlet.Parameters.ContainsKey("WhatIf"));
            Assert.Equal(metadata.SupportsShouldProcess, cmdlet.Parameters.ContainsKey("Confirm"));
            if (expected[cmdlet.Name] is { } impact)
            {
                Assert.Equal(impact, metadata.ConfirmImpact);
            }
        }
    }

    [Fact]
    public void Stop_CastraVm_takes_names_vm_objects_or_all_in_three_parameter_sets()
    {
        var stop = Command("Stop-CastraVm");
        Assert.Equal("Name", stop.DefaultParameterSet);
        Assert.Equal(["All", "InputObject", "Name"], stop.ParameterSets.Select(s => s.Name).Order());

        var name = stop.Parameters["Name"];
        Assert.Equal(typeof(string[]), name.ParameterType);
        Assert.Equal(["Name"], name.ParameterSets.Keys);
        Assert.True(InSet(name, "Name").IsMandatory);
        Assert.Equal(0, InSet(name, "Name").Position);
        Assert.True(InSet(name, "Name").ValueFromPipeline);
        Assert.True(InSet(name, "Name").ValueFromPipelineByPropertyName);
        Assert.Contains(name.Attributes, a => a is SupportsWildcardsAttribute);
        Assert.Contains("VmName", name.Aliases);

        var input = stop.Parameters["InputObject"];
        Assert.Equal("Castra.State.VmInfo[]", input.ParameterType.FullName);
        Assert.Equal(["InputObject"], input.ParameterSets.Keys);
        Assert.True(InSet(input, "InputObject").IsMandatory);
        Assert.True(InSet(input, "InputObject").ValueFromPipeline);

        Assert.True(InSet(stop.Parameters["All"], "All").IsMandatory);
        Assert.Equal(typeof(SwitchParameter), stop.Parameters["All"].ParameterType);

        foreach (var seconds in new[] { "CooperativeTimeout", "TermTimeout", "KillTimeout", "Deadline" })
        {
            Assert.Equal(typeof(double), stop.Parameters[seconds].ParameterType);
            var range = stop.Parameters[seconds].Attributes.OfType<ValidateRangeAttribute>().Single();
            Assert.Equal([0.001, 86400.0], new[] { range.MinRange, range.MaxRange }.Select(Convert.ToDouble));
        }

        var drain = stop.Parameters["DrainTimeout"].Attributes.OfType<ValidateRangeAttribute>().Single();
        Assert.Equal([0.0, 86400.0], new[] { drain.MinRange, drain.MaxRange }.Select(Convert.ToDouble));
        Assert.Equal("Castra.Shutdown.CooperativeMethod", stop.Parameters["Method"].ParameterType.FullName);
        Assert.Equal("Castra.Shutdown.ShutdownReason", stop.Parameters["Reason"].ParameterType.FullName);
        Assert.Equal("Castra.Hooks.HookErrorAction", stop.Parameters["HookErrorAction"].ParameterType.FullName);
        Assert.Equal(typeof(int), stop.Parameters["ThrottleLimit"].ParameterType);
        Assert.Equal(typeof(string), stop.Parameters["Message"].ParameterType);
        foreach (var flag in new[] { "AsJob", "SaveState" })
        {
            Assert.Equal(typeof(SwitchParameter), stop.Parameters[flag].ParameterType);
            Assert.Equal([ParameterAttribute.AllParameterSets], stop.Parameters[flag].ParameterSets.Keys);
        }

        var outputs = stop.OutputType.Select(t => t.Type.Name).ToHashSet();
        Assert.Superset(
            new HashSet<string> { "ShutdownRequestedEvent", "CooperativeAttemptedEvent", "CooperativeSucceededEvent", "CooperativeTimedOutEvent", "EscalationEvent",
             "HookStartedEvent", "HookCompletedEvent", "ShutdownCompleteEvent", "CastraShutdownJob" },
            outputs);
    }

    [Fact]
    public void The_Get_cmdlets_take_optional_wildcard_names_from_the_pipeline()
    {
        foreach (var (command, parameter) in new[] { ("Get-CastraVm", "Name"), ("Get-CastraShutdownStatus", "Name"), ("Get-CastraCleanupHook", "Name"), ("Get-CastraVmSession", "VmName") })
        {
            var name = Command(command).Parameters[parameter];
            Assert.Equal(typeof(string[]), name.ParameterType);
            var binding = InAllSets(name);
            Assert.Equal(0, binding.Position);
            Assert.False(binding.IsMandatory);
            Assert.True(binding.ValueFromPipeline);
            Assert.True(binding.ValueFromPipelineByPropertyName);
            Assert.Contains(name.Attributes, a => a is SupportsWildcardsAttribute);
        }
    }

    [Fact]
    public void Start_CastraVm_boots_a_kernel_or_a_disk_or_what_vm_json_records()
    {
        var start = Command("Start-CastraVm");
        Assert.Equal("Recorded", start.DefaultParameterSet);
        Assert.Equal(["Disk", "Kernel", "Recorded"], start.ParameterSets.Select(s => s.Name).Order());
        Assert.Equal(["Kernel"], start.Parameters["Kernel"].ParameterSets.Keys);
        Assert.True(InSet(start.Parameters["Kernel"], "Kernel").IsMandatory);
        Assert.Equal(["Disk", "Kernel"], start.Parameters["Disk"].ParameterSets.Keys.Order());
        Assert.True(InSet(start.Parameters["Disk"], "Disk").IsMandatory);
        Assert.False(InSet(start.Parameters["Disk"], "Kernel").IsMandatory);
        Assert.True(InAllSets(start.Parameters["Name"]).IsMandatory);
        Assert.True(InAllSets(start.Parameters["Name"]).ValueFromPipelineByPropertyName);
        var accelerator = start.Parameters["Accelerator"].Attributes.OfType<ValidateSetAttribute>().Single();
        Assert.Equal(["auto", "kvm", "tcg"], accelerator.ValidValues);
        Assert.Superset(new HashSet<string> { "Initrd", "Append", "Ephemeral", "MemoryMB", "CpuCount", "GuestAgent", "CooperativeTimeout", "TermTimeout", "KillTimeout", "QemuPath", "ArgumentList", "PassThru" },
            start.Parameters.Keys.ToHashSet());
    }

    [Fact]
    public void Register_CastraCleanupHook_takes_a_script_block_or_a_program()
    {
        var register = Command("Register-CastraCleanupHook");
        Assert.Equal("ScriptBlock", register.DefaultParameterSet);
        Assert.True(InAllSets(register.Parameters["Name"]).IsMandatory);
        Assert.Equal(0, InAllSets(register.Parameters["Name"]).Position);
        Assert.Equal(typeof(ScriptBlock), register.Parameters["ScriptBlock"].ParameterType);
        Assert.True(InSet(register.Parameters["ScriptBlock"], "ScriptBlock").IsMandatory);
        Assert.Equal(1, InSet(register.Parameters["ScriptBlock"], "ScriptBlock").Position);
        Assert.True(InSet(register.Parameters["FilePath"], "FilePath").IsMandatory);
        foreach (var shared in new[] { "VmName", "Stage", "Priority", "Timeout", "ArgumentList", "Force", "PassThru", "StateRoot" })
        {
            Assert.Equal([ParameterAttribute.AllParameterSets], register.Parameters[shared].ParameterSets.Keys);
            Assert.False(InAllSets(register.Parameters[shared]).IsMandatory);
        }

        Assert.Equal("Castra.Hooks.HookStage", register.Parameters["Stage"].ParameterType.FullName);
        var priority = register.Parameters["Priority"].Attributes.OfType<ValidateRangeAttribute>().Single();
        Assert.Equal([11, 1000], new[] { priority.MinRange, priority.MaxRange }.Select(Convert.ToInt32));
    }

    [Fact]
    public void Unregister_CastraCleanupHook_takes_hooks_from_the_pipeline_or_exact_names()
    {
        var unregister = Command("Unregister-CastraCleanupHook");
        Assert.Equal("Name", unregister.DefaultParameterSet);
        var input = unregister.Parameters["InputObject"];
        Assert.Equal("Castra.Hooks.CleanupHook[]", input.ParameterType.FullName);
        Assert.True(InSet(input, "InputObject").IsMandatory);
        Assert.True(InSet(input, "InputObject").ValueFromPipeline);
        var name = unregister.Parameters["Name"];
        Assert.True(InSet(name, "Name").IsMandatory);
        Assert.Equal(0, InSet(name, "Name").Position);
        Assert.DoesNotContain(name.Attributes, a => a is SupportsWildcardsAttribute); // removal is by exact name
    }

    [Fact]
    public void Output_objects_are_flat_so_ConvertTo_Json_renders_them_fully()
    {
        // Scalars, and lists of strings (a program's arguments): ConvertTo-Json shows all of them at its default depth.
        Type[] friendly = [typeof(string), typeof(int), typeof(long), typeof(ulong), typeof(bool), typeof(DateTime), typeof(IReadOnlyList<string>)];
        var outputs = Commands().SelectMany(c => c.OutputType).Select(t => t.Type).Where(t => t.Assembly.GetName().Name == "Castra.Core").Distinct().ToList();
        Assert.True(outputs.Count >= 12, $"only {outputs.Count} output types from Castra.Core");
        Assert.Contains(outputs, t => t.FullName == "Castra.Hooks.CleanupHook");
        Assert.Contains(outputs, t => t.FullName == "Castra.Sessions.VmSession");
        foreach (var type in outputs)
        {
            foreach (var property in type.GetProperties())
            {
                var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                Assert.True(friendly.Contains(propertyType), $"{type.Name}.{property.Name} is {property.PropertyType}");
            }
        }
    }
}

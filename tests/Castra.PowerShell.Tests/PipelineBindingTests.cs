using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>How PowerShell binds arguments and pipeline input to the cmdlets: positions, sets, by value, by property name.</summary>
public sealed class PipelineBindingTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public PipelineBindingTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    private static void AssertStoppedGracefully(ScriptResult result, params string[] vms)
    {
        Assert.Empty(result.Errors);
        Assert.Equal(vms.Order(), result.Events.Select(e => e.Text("VmName")!).Distinct().Order());
        foreach (var vm in vms)
        {
            Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], result.TypesOf(vm));
        }
    }

    [Fact]
    public void Names_bind_by_position_and_strings_bind_from_the_pipeline_by_value()
    {
        var web = _root.Launch("web");
        var db = _root.Launch("db");

        AssertStoppedGracefully(_pwsh.Run("Stop-CastraVm web -StateRoot $root"), "web");
        AssertStoppedGracefully(_pwsh.Run("'db' | Stop-CastraVm -StateRoot $root"), "db");

        Assert.Contains("cmd:system_powerdown", web.Records);
        Assert.Contains("cmd:system_powerdown", db.Records);
    }

    [Fact]
    public void Piped_strings_are_collected_and_stopped_in_one_call()
    {
        _root.Launch("a");
        _root.Launch("b");

        var result = _pwsh.Run("'a', 'b' | Stop-CastraVm -StateRoot $root");

        AssertStoppedGracefully(result, "a", "b");
    }

    [Theory]
    [InlineData("[pscustomobject]@{ Name = 'web'; StateRoot = $root } | Stop-CastraVm")]
    [InlineData("[pscustomobject]@{ VmName = 'web'; StateRoot = $root } | Stop-CastraVm")]
    public void Objects_with_a_Name_or_VmName_and_a_StateRoot_bind_by_property_name(string script)
    {
        _root.Launch("web");

        AssertStoppedGracefully(_pwsh.Run(script), "web");
    }

    [Fact]
    public void Get_CastraVm_output_binds_by_value_to_InputObject_and_brings_its_state_root()
    {
        _root.Launch("web");
        _root.Launch("db");

        var result = _pwsh.Run("Get-CastraVm -StateRoot $root | Stop-CastraVm");

        AssertStoppedGracefully(result, "web", "db");
    }

    [Fact]
    public void Names_piped_to_the_Get_cmdlets_select_those_VMs()
    {
        _root.Define("web");
        _root.Define("db");

        Assert.Equal(["db"], _pwsh.Run("'db' | Get-CastraVm -StateRoot $root").Output.Select(o => o.Text("Name")));
        Assert.Equal(["web"], _pwsh.Run("[pscustomobject]@{ VmName = 'web' } | Get-CastraVm -StateRoot $root").Output.Select(o => o.Text("Name")));
    }

    [Fact]
    public void Hooks_piped_from_Get_CastraCleanupHook_bind_to_InputObject_of_Unregister()
    {
        var result = _pwsh.Run("""
            Register-CastraCleanupHook keep -FilePath /bin/true -StateRoot $root
            Register-CastraCleanupHook drop -FilePath /bin/true -StateRoot $root
            Get-CastraCleanupHook drop -StateRoot $root | Unregister-CastraCleanupHook -PassThru -Confirm:$false
            """);

        Assert.Empty(result.Errors);
        Assert.Equal("drop", Assert.Single(result.Output).Text("Name"));
        Assert.Equal(["keep"], _pwsh.Run("Get-CastraCleanupHook -StateRoot $root").Output.Select(o => o.Text("Name")));
    }

    [Fact]
    public void A_script_block_or_a_program_chooses_the_hook_parameter_set()
    {
        var result = _pwsh.Run("""
            Register-CastraCleanupHook sb { 'x' } -StateRoot $root -WhatIf
            Register-CastraCleanupHook exe -FilePath /bin/echo -ArgumentList a -StateRoot $root -WhatIf
            """);

        Assert.Empty(result.Errors);
        var whatIf = _pwsh.Host.Interface.Lines;
        Assert.Contains(whatIf, l => l.StartsWith("What if: Register PreStop hook 'sb'", StringComparison.Ordinal) && l.Contains("runs a script block", StringComparison.Ordinal));
        Assert.Contains(whatIf, l => l.StartsWith("What if: Register PreStop hook 'exe'", StringComparison.Ordinal) && l.Contains("runs /bin/echo", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Stop-CastraVm -All web -StateRoot $root", "PositionalParameterNotFound")]
    [InlineData("Stop-CastraVm -All -Name web -StateRoot $root", "AmbiguousParameterSet")]
    [InlineData("Register-CastraCleanupHook n -ScriptBlock { 'x' } -FilePath /bin/true -StateRoot $root", "AmbiguousParameterSet")]
    [InlineData("Stop-CastraVm web -CooperativeTimeout 0 -StateRoot $root", "ParameterArgumentValidationError")]
    [InlineData("Stop-CastraVm web -DrainTimeout 86401 -StateRoot $root", "ParameterArgumentValidationError")]
    [InlineData("Register-CastraCleanupHook n -FilePath /bin/true -Priority 10 -StateRoot $root", "ParameterArgumentValidationError")]
    [InlineData("Start-CastraVm n -Kernel /k -Accelerator hvf -StateRoot $root", "ParameterArgumentValidationError")]
    [InlineData("Stop-CastraVm web -Method Telepathy -StateRoot $root", "CannotConvertArgumentNoMessage")]
    [InlineData("Stop-CastraVm web -StateRoot ''", "ParameterArgumentValidationError")]
    public void Arguments_that_fit_no_parameter_set_or_rule_are_refused_before_anything_runs(string script, string errorId)
    {
        var web = _root.Launch("web");

        // A binding error ends that statement (an error record, as at a prompt); the cmdlet never runs.
        var result = _pwsh.Run(script);

        Assert.Empty(result.Output);
        var error = Assert.Single(result.Errors);

        Assert.IsType<ParameterBindingException>(error.Exception, exactMatch: false);
        Assert.StartsWith(errorId + ",Castra.PowerShell.Commands.", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.True(web.IsAlive);
        Assert.DoesNotContain("qmp-connect", web.Records);
        Assert.Empty(_pwsh.Run("Get-CastraCleanupHook -StateRoot $root").Output);
    }

    [Fact]
    public void Enum_and_set_arguments_bind_case_insensitively()
    {
        _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm web -Method acpi -Reason systemshutdown -StateRoot $root");

        AssertStoppedGracefully(result, "web");
        Assert.Equal("ACPI", result.Events[1].Text("Method"));
        Assert.Equal("SystemShutdown", result.Events[0].Text("Reason"));
    }
}

using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// Error records as scripts see them: a stable FullyQualifiedErrorId, the right ErrorCategory, the VM (or hook) name
/// as TargetObject, the original exception kept; one VM's problem is that VM's non-terminating error.
/// </summary>
public sealed class ErrorRecordTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public ErrorRecordTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    private static void AssertRecord(ErrorRecord error, string id, string command, ErrorCategory category, string target, bool messageNamesTarget = true)
    {
        Assert.Equal($"{id},Castra.PowerShell.Commands.{command}", error.FullyQualifiedErrorId);
        Assert.Equal(category, error.CategoryInfo.Category);
        Assert.Equal(target, error.TargetObject);
        Assert.Equal("Castra.Errors.CastraException", error.Exception.GetType().FullName);
        if (messageNamesTarget)
        {
            Assert.Contains(target, error.ErrorDetails?.Message ?? error.Exception.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_unknown_VM_is_its_own_non_terminating_error_and_the_others_are_still_stopped()
    {
        var web = _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm nosuch, web -StateRoot $root; 'the script went on'");

        AssertRecord(Assert.Single(result.Errors), "CastraVmNotFound", "StopCastraVmCommand", ErrorCategory.ObjectNotFound, "nosuch");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], result.TypesOf("web"));
        Assert.Empty(result.TypesOf("nosuch"));
        Assert.Equal("the script went on", result.Output[^1].ToString());
        Assert.Contains("cmd:system_powerdown", web.Records);
    }

    [Fact]
    public void ErrorVariable_collects_the_per_VM_records_while_the_events_still_flow()
    {
        _root.Launch("web");

        var result = _pwsh.Run("$events = Stop-CastraVm ghost, web -StateRoot $root -ErrorAction SilentlyContinue -ErrorVariable failed; $failed; $events.Count");

        Assert.Empty(result.Errors);
        var failed = (ErrorRecord)result.Output[0].BaseObject;
        Assert.Equal("ghost", failed.TargetObject);
        Assert.Equal(4, (int)result.Output[1].BaseObject);
    }

    [Fact]
    public void An_invalid_VM_name_is_an_InvalidArgument_error_for_that_name()
    {
        var result = _pwsh.Run("Stop-CastraVm '../etc' -StateRoot $root");

        AssertRecord(Assert.Single(result.Errors), "CastraInvalidVmName", "StopCastraVmCommand", ErrorCategory.InvalidArgument, "../etc");
        Assert.Empty(result.Events);
    }

    [Fact]
    public void A_deadline_shorter_than_the_plan_ends_the_call_before_anything_is_sent()
    {
        var web = _root.Launch("web");

        var error = _pwsh.RunExpectingTermination("Stop-CastraVm web -StateRoot $root -Deadline 1");

        Assert.StartsWith("CastraDeadlineExceeded,Castra.PowerShell.Commands.StopCastraVmCommand", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.LimitsExceeded, error.CategoryInfo.Category);
        Assert.True(web.IsAlive);
        Assert.DoesNotContain("cmd:system_powerdown", web.Records);
    }

    [Fact]
    public void The_Get_cmdlets_report_unknown_names_with_their_own_ids()
    {
        _root.Define("web");
        var result = _pwsh.Run("Get-CastraShutdownStatus nosuch -StateRoot $root; Get-CastraCleanupHook nohook -StateRoot $root; Get-CastraVmSession novm -StateRoot $root");

        Assert.Equal(3, result.Errors.Count);
        AssertRecord(result.Errors[0], "CastraVmNotFound", "GetCastraShutdownStatusCommand", ErrorCategory.ObjectNotFound, "nosuch");
        AssertRecord(result.Errors[1], "CastraHookNotFound", "GetCastraCleanupHookCommand", ErrorCategory.ObjectNotFound, "nohook");
        AssertRecord(result.Errors[2], "CastraVmNotFound", "GetCastraVmSessionCommand", ErrorCategory.ObjectNotFound, "novm");
    }

    [Fact]
    public void Start_CastraVm_names_the_VM_whose_kernel_is_missing()
    {
        var result = _pwsh.Run("Start-CastraVm box -Kernel /no/such/vmlinux -Accelerator tcg -StateRoot $root");

        AssertRecord(Assert.Single(result.Errors), "CastraLaunchFileNotFound", "StartCastraVmCommand", ErrorCategory.ObjectNotFound, "box",
            messageNamesTarget: false); // the message names the file only; TargetObject names the VM
    }

    [Fact]
    public void Registering_a_hook_twice_is_ResourceExists_and_ErrorAction_Stop_makes_it_terminating()
    {
        var error = _pwsh.RunExpectingTermination("""
            Register-CastraCleanupHook flush -FilePath /bin/true -StateRoot $root
            Register-CastraCleanupHook flush -FilePath /bin/true -StateRoot $root -ErrorAction Stop
            """);

        Assert.Equal("CastraHookExists,Castra.PowerShell.Commands.RegisterCastraCleanupHookCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceExists, error.CategoryInfo.Category);
    }
}

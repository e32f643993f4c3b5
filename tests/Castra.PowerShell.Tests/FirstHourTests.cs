using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// What a PowerShell user hits in the first hour (issue 13), each in real PowerShell: errors under -ErrorAction Stop,
/// -TurnOff and -Force, a missing state root, piped state roots, script-block hooks, a second caller, whole events.
/// </summary>
public sealed class FirstHourTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public FirstHourTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    [Theory]
    [InlineData("Stop-CastraVm nosuch, web, slow -StateRoot $root -ErrorAction Stop")]
    [InlineData("$ErrorActionPreference = 'Stop'; Stop-CastraVm nosuch, web, slow -StateRoot $root")]
    public void Under_ErrorAction_Stop_every_VM_runs_its_sequence_then_one_error_names_the_failures(string script)
    {
        var web = _root.Launch("web");
        var slow = _root.Launch("slow", "ignore-acpi");
        File.WriteAllText(Path.Combine(_root.VmDirectory("slow"), "vm.json"), "{\"CooperativeTimeoutSeconds\": 0.5}"); // slow's window only

        var result = _pwsh.Run($"$events = [System.Collections.ArrayList]::new(); try {{ {script} | ForEach-Object {{ [void]$events.Add($_) }} }} catch {{ $_ }}; $events");

        var terminating = (ErrorRecord)Assert.Single(result.Output, o => o.BaseObject is ErrorRecord).BaseObject;
        Assert.StartsWith("CastraVmsNotStopped,", terminating.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(["nosuch"], (string[])terminating.TargetObject);
        Assert.Contains("nosuch: CastraVmNotFound", terminating.Exception.Message);
        Assert.Equal("Castra.PowerShell.VmsNotStoppedException", terminating.Exception.GetType().FullName);
        var inner = (ErrorRecord)Assert.Single((System.Collections.IEnumerable)terminating.Exception.GetType().GetProperty("Errors")!.GetValue(terminating.Exception)!)!;
        Assert.Equal("CastraVmNotFound,Castra.PowerShell.Commands.StopCastraVmCommand", inner.FullyQualifiedErrorId);

        // Both known VMs ran to the end: web graceful, slow escalated (its power button was pressed: it was not left running).
        var events = result.Output.Where(o => o.BaseObject is not ErrorRecord).ToList();
        Assert.Equal("Graceful", events.Last(e => e.Text("VmName") == "web").Text("Outcome"));
        Assert.Equal("Forced", events.Last(e => e.Text("VmName") == "slow").Text("Outcome"));
        Assert.False(web.IsAlive);
        Assert.False(slow.IsAlive);

        // The per-VM record stays in $Error too.
        var errors = _pwsh.Run("$Error").Output.Select(o => o.BaseObject).OfType<ErrorRecord>();
        Assert.Contains(errors, e => e.FullyQualifiedErrorId.StartsWith("CastraVmNotFound,", StringComparison.Ordinal));
    }

    [Fact]
    public void Under_ErrorAction_Stop_the_ErrorVariable_holds_each_VMs_own_record()
    {
        _root.Launch("web");

        var result = _pwsh.Run("try { Stop-CastraVm nosuch, web -StateRoot $root -ErrorAction Stop -ErrorVariable failed | Out-Null } catch { }; $failed");

        // PowerShell itself adds the terminating error (as the exception that carries it); the VM's own record is ours.
        var ids = result.Output.Select(o => o.BaseObject switch
        {
            ErrorRecord record => record.FullyQualifiedErrorId,
            IContainsErrorRecord carrier => carrier.ErrorRecord.FullyQualifiedErrorId,
            var other => other.ToString()!,
        }).Select(id => id.Split(',')[0]).ToList();
        Assert.Equal(["CastraVmNotFound", "CastraVmsNotStopped"], ids);
    }

    [Fact]
    public void Under_WarningAction_Stop_a_forced_VM_does_not_cancel_the_others_and_the_warning_still_stops_the_call()
    {
        var stuck = _root.Launch("stuck", "ignore-acpi");
        File.WriteAllText(Path.Combine(_root.VmDirectory("stuck"), "vm.json"), "{\"CooperativeTimeoutSeconds\": 0.3}");
        var slow = _root.Launch("slow", exitDelayMs: 3000); // powers off 3 s after the button: long after stuck was forced

        var result = _pwsh.Run("$events = [System.Collections.ArrayList]::new(); try { Stop-CastraVm stuck, slow -StateRoot $root -WarningAction Stop | ForEach-Object { [void]$events.Add($_) } } catch { $_ }; $events");

        var stopped = (ErrorRecord)Assert.Single(result.Output, o => o.BaseObject is ErrorRecord).BaseObject;
        Assert.Contains("had to be forced", stopped.Exception.Message);
        var events = result.Output.Where(o => o.BaseObject is not ErrorRecord).ToList();
        Assert.Equal("Forced", events.Last(e => e.Text("VmName") == "stuck").Text("Outcome"));
        Assert.Equal("Graceful", events.Last(e => e.Text("VmName") == "slow").Text("Outcome"));
        Assert.False(stuck.IsAlive);
        Assert.False(slow.IsAlive);
    }

    [Fact]
    public void Without_Stop_each_VMs_error_is_written_as_it_happens_and_nothing_terminates()
    {
        _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm nosuch, web -StateRoot $root");

        var error = Assert.Single(result.Errors);
        Assert.Equal("nosuch", error.TargetObject);
        Assert.Equal("Graceful", result.Events[^1].Text("Outcome"));
    }

    [Fact]
    public void A_missing_state_root_is_a_clear_error_naming_it_and_how_it_was_chosen()
    {
        var missing = "/tmp/castra-missing-" + Guid.NewGuid().ToString("N")[..8];
        _pwsh.Set("missing", missing);

        var fromEnv = _pwsh.RunExpectingTermination("$env:CASTRA_HOME = $missing; try { Stop-CastraVm -All } finally { $env:CASTRA_HOME = $null }");
        var fromParameter = _pwsh.RunExpectingTermination("Get-CastraVm -StateRoot $missing");
        var status = _pwsh.RunExpectingTermination("Get-CastraShutdownStatus -StateRoot $missing");

        Assert.StartsWith("CastraStateRootNotFound,", fromEnv.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains(missing, fromEnv.Exception.Message);
        Assert.Contains("chosen by CASTRA_HOME", fromEnv.Exception.Message);
        Assert.Contains("given with -StateRoot", fromParameter.Exception.Message);
        Assert.Equal(ErrorCategory.ObjectNotFound, status.CategoryInfo.Category);
    }

    [Fact]
    public void All_over_an_empty_root_warns_that_there_was_nothing_to_stop()
    {
        var result = _pwsh.Run("Stop-CastraVm -All -StateRoot $root");

        Assert.Contains(result.Warnings, w => w.Message.Contains("There are no VMs under", StringComparison.Ordinal));
        Assert.Empty(result.Output);
    }

    [Fact]
    public void TurnOff_Force_runs_unattended_and_does_not_warn_that_the_VM_had_to_be_forced()
    {
        var vm = _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm web -TurnOff -Force -StateRoot $root");

        Assert.Empty(result.Errors);
        Assert.Equal("None", result.Events.Single(e => e.Text("Type") == "CooperativeAttempted").Text("Method"));
        Assert.Equal("Forced", result.Events[^1].Text("Outcome"));
        Assert.DoesNotContain(result.Warnings, w => w.Message.Contains("had to be forced", StringComparison.Ordinal));
        Assert.Empty(_pwsh.Host.Interface.Prompts);
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public void Force_alone_is_PowerShells_no_prompt_and_still_asks_the_guest()
    {
        var vm = _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm web -Force -StateRoot $root");

        Assert.Equal("ACPI", result.Events.Single(e => e.Text("Type") == "CooperativeAttempted").Text("Method"));
        Assert.Equal("Graceful", result.Events[^1].Text("Outcome"));
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public void TurnOff_without_Force_asks_and_a_No_leaves_the_VM_running()
    {
        var vm = _root.Launch("web");
        using var asking = new PwshSession(new ScriptedHost("No"));
        asking.Set("root", _root.Path);

        var result = asking.Run("Stop-CastraVm web -TurnOff -StateRoot $root");

        Assert.Single(asking.Host.Interface.Prompts);
        Assert.Empty(result.Output);
        Assert.True(vm.IsAlive);
    }

    [Fact]
    public void TurnOff_asks_once_for_all_VMs_when_the_answer_is_Yes_to_All()
    {
        var web = _root.Launch("web");
        var db = _root.Launch("db");
        using var asking = new PwshSession(new ScriptedHost("Yes to All"));
        asking.Set("root", _root.Path);

        var result = asking.Run("Stop-CastraVm web, db -TurnOff -StateRoot $root");

        Assert.Single(asking.Host.Interface.Prompts);
        Assert.Equal(["Forced", "Forced"], result.Events.Where(e => e.Text("Type") == "ShutdownComplete").Select(e => e.Text("Outcome")));
        Poll.Until(() => !web.IsAlive && !db.IsAlive, "both VMs turned off", 20);
    }

    [Fact]
    public void An_empty_pipeline_asks_for_nothing_and_reports_nothing()
    {
        _root.Launch("web");

        var result = _pwsh.Run("Get-CastraVm -StateRoot $root | Where-Object State -eq 'Stale' | Stop-CastraVm -ErrorAction Stop; @() | Stop-CastraVm -AsJob");

        Assert.Empty(result.Output);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Piped_status_objects_and_events_keep_their_state_root()
    {
        var vm = _root.Launch("web");
        _pwsh.Run("Stop-CastraVm web -StateRoot $root -TurnOff -Force");
        var again = _root.Launch("web");

        // No -StateRoot on the second cmdlet: it comes from the piped objects (~/.castra would not have the VM).
        var viaStatus = _pwsh.Run("Get-CastraShutdownStatus web -StateRoot $root | Stop-CastraVm");
        var viaEvent = _pwsh.Run("Stop-CastraVm web -StateRoot $root | Select-Object -Last 1 | Get-CastraShutdownStatus");

        Assert.Empty(viaStatus.Errors);
        Assert.Equal("Graceful", viaStatus.Events[^1].Text("Outcome"));
        Assert.False(again.IsAlive);
        Assert.Empty(viaEvent.Errors);
        Assert.Equal(_root.Path, viaEvent.Output.Single().Text("StateRoot"));
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public void A_using_variable_in_a_hook_is_refused_and_a_free_variable_is_a_warning()
    {
        var usings = _pwsh.Run("$dest = '/tmp/x'; Register-CastraCleanupHook copy -StateRoot $root -ScriptBlock { \"[$using:dest]\" }");
        var free = _pwsh.Run("$dest = '/tmp/x'; Register-CastraCleanupHook copy2 -StateRoot $root -ScriptBlock { \"$dest\" }");
        var hooks = _pwsh.Run("Get-CastraCleanupHook -StateRoot $root").Output.Select(o => o.Text("Name")).ToList();

        var refused = Assert.Single(usings.Errors);
        Assert.StartsWith("CastraInvalidHook,", refused.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("$using:dest", refused.Exception.Message);
        Assert.Contains("-ArgumentList", refused.Exception.Message);
        Assert.Contains(free.Warnings, w => w.Message.Contains("$dest", StringComparison.Ordinal) && w.Message.Contains("-ArgumentList", StringComparison.Ordinal));
        Assert.Equal(["copy2"], hooks);
    }

    [Fact]
    public void Using_in_a_block_the_hook_passes_on_and_variables_the_hook_sets_itself_are_fine()
    {
        var nested = _pwsh.Run("Register-CastraCleanupHook parallel -StateRoot $root -ScriptBlock { $d = '/x'; 1..2 | ForEach-Object -Parallel { $using:d } }");
        var set = _pwsh.Run("Register-CastraCleanupHook setters -StateRoot $root -ScriptBlock { " +
            "[int]::TryParse('1', [ref]$n) | Out-Null; Get-Date -OutVariable now | Out-Null; New-Variable -Name later -Value 1; \"$n $now $later $PROFILE $ErrorView\" }");

        Assert.Empty(nested.Errors);
        Assert.Empty(nested.Warnings);
        Assert.Empty(set.Errors);
        Assert.Empty(set.Warnings);
    }

    [Fact]
    public void A_script_block_hook_gets_its_values_through_ArgumentList_at_shutdown()
    {
        _root.Launch("web");
        var output = Path.Combine(_root.Path, "hook-out");
        _pwsh.Set("output", output);

        // The hook's pwsh is looked up when it runs: here, the repository's pinned one (on PATH, as for a user).
        _pwsh.Set("tools", BuiltModule.Repo(".tools/pwsh"));
        _pwsh.Run("if (-not ($env:PATH -split ':' -contains $tools)) { $env:PATH = $tools + ':' + $env:PATH }");
        _pwsh.Run("Register-CastraCleanupHook note -StateRoot $root -ScriptBlock { param($path, $word) \"$word for $env:CASTRA_VM_NAME\" | Set-Content -Path $path } -ArgumentList $output, \"it's done\" -Timeout 60");

        var result = _pwsh.Run("Stop-CastraVm web -StateRoot $root");

        Assert.Equal("Succeeded", result.Events.Single(e => e.Text("Type") == "HookCompleted").Text("Status"));
        Assert.Equal("it's done for web", File.ReadAllText(output).Trim());
    }

    [Fact]
    public void A_second_caller_warns_that_it_follows_and_names_what_of_its_options_is_not_used()
    {
        var vm = _root.Launch("slow", "ignore-acpi");
        using var second = new PwshSession();
        second.Set("root", _root.Path);
        using var owner = _pwsh.Prepare("Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 3");
        var running = owner.BeginInvoke();
        Poll.Until(() => File.Exists(Path.Combine(_root.VmDirectory("slow"), "shutdown.json")), "the owner's shutdown.json", 10);

        var follower = second.Run("Stop-CastraVm slow -StateRoot $root -TurnOff -Force");
        owner.EndInvoke(running);

        var warning = Assert.Single(follower.Warnings, w => w.Message.Contains("already being shut down", StringComparison.Ordinal));
        Assert.Contains($"PID {Environment.ProcessId}", warning.Message);
        Assert.Contains("cooperative 3s", warning.Message);
        Assert.Contains("this call's -TurnOff is not used", warning.Message);
        Assert.Equal("Forced", follower.Events[^1].Text("Outcome"));
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public void A_QEMU_that_had_died_before_the_call_is_recorded_as_found_exited()
    {
        var vm = _root.Launch("gone");
        vm.Kill();
        Poll.Until(() => !vm.IsAlive, "the killed QEMU", 10);

        var result = _pwsh.Run("Stop-CastraVm gone -StateRoot $root");

        var complete = result.Events[^1];
        Assert.Equal(("Graceful", "Exited"), (complete.Text("Outcome"), complete.Text("QemuFound")));
        var audit = File.ReadAllLines(Path.Combine(_root.Path, "audit.ndjson"));
        Assert.Contains("\"QemuFound\":\"Exited\"", audit[^1]);
    }
}

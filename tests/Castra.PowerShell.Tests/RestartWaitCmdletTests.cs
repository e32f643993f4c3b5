using System.Diagnostics;
using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// Start-CastraVm NAME (the Recorded parameter set), Restart-CastraVm, Wait-CastraVm and Stop-CastraVm -PassThru as
/// PowerShell binds and reports them: no prompt for -Kernel, pipeline input by property name, -WhatIf, error ids,
/// categories and targets. No QEMU here (RealQemuRestartTests boots one); fake QEMUs where a process is needed.
/// </summary>
public sealed class RestartWaitCmdletTests : IDisposable
{
    private readonly FakeStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private PwshSession Session(params string[] answers) => new PwshSession(new ScriptedHost(answers)).Set("root", _root.Path);

    private string Record(string name, string json)
    {
        _root.Define(name);
        var file = Path.Combine(_root.VmDirectory(name), "vm.json");
        File.WriteAllText(file, json);
        return file;
    }

    private const string Recorded = """{"Launch": {"Kernel": "/boot/castra-test-vmlinux", "MemoryMB": 128, "CpuCount": 1, "Accelerator": "tcg", "Qemu": "/usr/bin/qemu-system-x86_64"}}""";

    [Fact]
    public void The_default_parameter_set_is_the_recorded_definition_so_a_name_alone_binds()
    {
        using var pwsh = Session();

        var sets = pwsh.Run("(Get-Command Start-CastraVm).ParameterSets | ForEach-Object { '{0}:{1}' -f $_.Name, $_.IsDefault }").Output.Select(o => o.ToString());

        Assert.Contains("Recorded:True", sets);
        Assert.Contains("Kernel:False", sets);
        Assert.Contains("Disk:False", sets);
    }

    [Fact]
    public void Start_CastraVm_with_a_name_alone_does_not_prompt_and_says_when_nothing_is_recorded()
    {
        _root.Define("web");
        using var pwsh = Session(); // No scripted answers: any prompt (for -Kernel) would fail the script.

        var result = pwsh.Run("Start-CastraVm web -StateRoot $root");

        var error = Assert.Single(result.Errors);
        Assert.Equal("CastraNoLaunchDefinition,Castra.PowerShell.Commands.StartCastraVmCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal("web", error.TargetObject);
        Assert.Contains("-Kernel", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(pwsh.Host.Interface.Prompts);
    }

    [Fact]
    public void Get_CastraVm_piped_to_Start_CastraVm_binds_by_property_name_and_WhatIf_shows_the_recorded_launch()
    {
        Record("web", Recorded);
        using var pwsh = Session();

        var result = pwsh.Run("Get-CastraVm web -StateRoot $root | Start-CastraVm -WhatIf");

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
        var line = Assert.Single(pwsh.Host.Interface.Lines, l => l.StartsWith("What if:", StringComparison.Ordinal));
        Assert.Contains("Start VM 'web'", line, StringComparison.Ordinal);
        Assert.Contains("from its recorded definition (kernel /boot/castra-test-vmlinux, 128 MiB, 1 CPU)", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root.VmDirectory("web"), "qemu.pid")));
    }

    [Fact]
    public void Given_launch_parameters_replace_the_recorded_values_in_the_WhatIf_description()
    {
        Record("web", Recorded);
        using var pwsh = Session();

        pwsh.Run("Start-CastraVm web -MemoryMB 512 -CpuCount 2 -StateRoot $root -WhatIf");

        var line = Assert.Single(pwsh.Host.Interface.Lines, l => l.StartsWith("What if:", StringComparison.Ordinal));
        Assert.Contains("512 MiB, 2 CPU", line, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, ErrorCategory> BadDefinitions() => new()
    {
        { "{ damaged", "CastraVmDefinitionInvalid", ErrorCategory.InvalidData },
        { """{"Launch": {"Kernel": "relative/vmlinux", "MemoryMB": 128, "CpuCount": 1}}""", "CastraVmDefinitionInvalid", ErrorCategory.InvalidData },
        { "foreign", "CastraVmDefinitionUntrusted", ErrorCategory.SecurityError },
    };

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public void A_damaged_or_foreign_definition_is_a_clear_error_for_start_and_restart_and_nothing_runs(string json, string errorId, ErrorCategory category)
    {
        var file = Record("web", json == "foreign" ? Recorded : json);
        if (json == "foreign")
        {
            using var chown = Process.Start("chown", ["65534:65534", file])!;
            chown.WaitForExit();
            Assert.Equal(0, chown.ExitCode);
        }

        using var pwsh = Session();

        foreach (var command in new[] { "Start-CastraVm web -StateRoot $root", "Restart-CastraVm web -StateRoot $root -Confirm:$false" })
        {
            var error = Assert.Single(pwsh.Run(command).Errors);
            Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId, StringComparison.Ordinal);
            Assert.Equal(category, error.CategoryInfo.Category);
            Assert.Equal("web", error.TargetObject);
        }

        Assert.False(File.Exists(Path.Combine(_root.VmDirectory("web"), "qemu.pid")));
    }

    [Fact]
    public void Restart_CastraVm_WhatIf_describes_the_stop_and_the_start_and_touches_nothing()
    {
        var web = _root.Launch("web");
        File.WriteAllText(Path.Combine(_root.VmDirectory("web"), "vm.json"), Recorded);
        using var pwsh = Session();

        var result = pwsh.Run("Get-CastraVm web -StateRoot $root | Restart-CastraVm -WhatIf");

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
        var line = Assert.Single(pwsh.Host.Interface.Lines, l => l.StartsWith("What if:", StringComparison.Ordinal));
        Assert.Contains("Restart VM 'web': stop it", line, StringComparison.Ordinal);
        Assert.Contains("(kernel /boot/castra-test-vmlinux)", line, StringComparison.Ordinal);
        Assert.True(web.IsAlive);
        Assert.DoesNotContain("cmd:system_powerdown", web.Records);
    }

    [Fact]
    public void Unknown_vms_are_not_found_for_each_new_cmdlet()
    {
        using var pwsh = Session();

        foreach (var (command, type) in new[]
        {
            ("Start-CastraVm nosuch -StateRoot $root", "StartCastraVmCommand"),
            ("Restart-CastraVm nosuch -StateRoot $root", "RestartCastraVmCommand"),
            ("Wait-CastraVm nosuch -StateRoot $root -Timeout 1", "WaitCastraVmCommand"),
        })
        {
            var result = pwsh.Run(command);
            var error = Assert.Single(result.Errors);
            Assert.Equal($"CastraVmNotFound,Castra.PowerShell.Commands.{type}", error.FullyQualifiedErrorId);
            Assert.Equal("nosuch", error.TargetObject);
            Assert.Empty(result.Output);
        }
    }

    [Fact]
    public void Wait_CastraVm_on_a_stopped_vm_outputs_not_ready_and_a_timeout_error_per_vm()
    {
        _root.Define("a");
        _root.Define("b");
        using var pwsh = Session();

        var result = pwsh.Run("Get-CastraVm a, b -StateRoot $root | Wait-CastraVm -Timeout 0.4");

        Assert.Equal(["a", "b"], result.Output.Select(o => o.Text("Name")));
        Assert.All(result.Output, o =>
        {
            Assert.False(o.As<bool>("Ready"));
            Assert.Equal("QEMU is not running", o.Text("Detail"));
            Assert.Equal("QMP running", o.Text("WaitedFor"));
        });
        Assert.Equal(2, result.Errors.Count);
        Assert.All(result.Errors, e =>
        {
            Assert.Equal("CastraVmNotReady,Castra.PowerShell.Commands.WaitCastraVmCommand", e.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.OperationTimeout, e.CategoryInfo.Category);
        });
        Assert.Equal(["a", "b"], result.Errors.Select(e => e.TargetObject));
    }

    [Fact]
    public void Restart_CastraVm_under_ErrorAction_Stop_ends_with_one_error_that_says_not_restarted()
    {
        _root.Define("a");
        using var pwsh = Session();

        var error = pwsh.RunExpectingTermination("Restart-CastraVm nosuch -StateRoot $root -ErrorAction Stop");

        Assert.StartsWith("CastraVmsNotStopped", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("1 VM(s) were not restarted: nosuch: CastraVmNotFound", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wait_CastraVm_refuses_an_empty_marker_at_binding()
    {
        _root.Define("a");
        using var pwsh = Session();

        var error = pwsh.RunExpectingTermination("Wait-CastraVm a -StateRoot $root -ForMarker ''");

        Assert.StartsWith("ParameterArgumentValidationError", error.FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_CastraVm_PassThru_writes_each_VM_object_after_its_events_also_from_a_job()
    {
        _root.Launch("a");
        _root.Launch("b");
        using var pwsh = Session();

        var result = pwsh.Run("Stop-CastraVm a -StateRoot $root -PassThru");

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], result.TypesOf("a"));
        var vm = result.Output[^1];
        Assert.Contains("Castra.State.VmInfo", vm.TypeNames);
        Assert.Equal("a", vm.Text("Name"));
        Assert.Equal("Stopped", vm.Text("State"));
        Assert.Equal("Graceful", vm.Text("LastOutcome"));

        var job = pwsh.Run("Stop-CastraVm b -StateRoot $root -PassThru -AsJob | Wait-Job | Receive-Job");
        var fromJob = Assert.Single(job.Output, o => o.TypeNames.Contains("Castra.State.VmInfo"));
        Assert.Equal("Stopped", fromJob.Text("State"));
        Assert.Equal(job.Output[^1], fromJob);

        // Without -PassThru: events only, as before.
        Assert.DoesNotContain(pwsh.Run("Stop-CastraVm a -StateRoot $root").Output, o => o.TypeNames.Contains("Castra.State.VmInfo"));
    }
}

using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>Register-/Unregister-CastraHostShutdown in PowerShell: ShouldProcess, errors as ErrorRecords, what they write.</summary>
public sealed class HostShutdownCmdletTests : IDisposable
{
    private const string Marker = "# Written by Castra (castra host-shutdown install, Register-CastraHostShutdown).";

    private readonly FakeStateRoot _root = new();
    private readonly string _units;
    private readonly string _unit;

    public HostShutdownCmdletTests()
    {
        _units = Path.Combine(_root.Path, "units");
        Directory.CreateDirectory(_units);
        _unit = Path.Combine(_units, "castra-guests.service");
    }

    /// <summary>Any existing executable will do as the castra the unit names: nothing here runs it.</summary>
    private static string Castra => Path.Combine(BuiltModule.RepositoryRoot, "out", "castra", "castra");

    public void Dispose() => _root.Dispose();

    private PwshSession Session(params string[] answers) =>
        new PwshSession(new ScriptedHost(answers)).Set("root", _root.Path).Set("units", _units).Set("castra", Castra);

    private const string Register = "Register-CastraHostShutdown -StateRoot $root -UnitDirectory $units -CastraPath $castra -NoSystemctl";

    [Fact]
    public void Register_writes_the_unit_and_says_what_systemctl_must_do()
    {
        _root.Define("web");
        using var pwsh = Session();

        var result = pwsh.Run(Register + " -Margin 5 -After postgresql.service -PassThru -Verbose");

        Assert.Empty(result.Errors);
        var change = Assert.Single(result.Output);
        Assert.Equal("Installed", change.Text("Action"));
        Assert.Equal(_unit, change.Text("Path"));
        Assert.IsType<long>(change.Value("TimeoutStopSeconds"));
        Assert.False((bool)change.Value("SystemctlRun")!);
        var text = File.ReadAllText(_unit);
        Assert.StartsWith(Marker, text, StringComparison.Ordinal);
        Assert.Contains($"ExecStop={Castra} down --all --home {_root.Path} --reason SystemShutdown", text, StringComparison.Ordinal);
        Assert.Contains($"TimeoutStopSec={change.Value("TimeoutStopSeconds")}\n", text, StringComparison.Ordinal);
        Assert.Contains("After=postgresql.service\n", text, StringComparison.Ordinal);
        var warning = Assert.Single(result.Warnings).Message;
        Assert.Contains("-NoSystemctl", warning, StringComparison.Ordinal);
        Assert.Contains("systemctl enable --now castra-guests.service", warning, StringComparison.Ordinal);
        Assert.Contains(result.Verbose, v => v.Message.Contains("1 VM(s)", StringComparison.Ordinal));

        // The same again replaces Castra's own file.
        Assert.Equal("Replaced", Assert.Single(pwsh.Run(Register + " -PassThru").Output).Text("Action"));
    }

    [Fact]
    public void WhatIf_and_a_declined_Confirm_write_nothing()
    {
        using var pwsh = Session("No");

        var result = pwsh.Run(Register + " -WhatIf");
        Assert.Empty(result.Output);
        var line = Assert.Single(pwsh.Host.Interface.Lines, l => l.StartsWith("What if:", StringComparison.Ordinal));
        Assert.Contains(_unit, line, StringComparison.Ordinal);
        Assert.Contains("TimeoutStopSec=", line, StringComparison.Ordinal);

        pwsh.Run(Register + " -Confirm");
        Assert.Single(pwsh.Host.Interface.Prompts);
        Assert.False(File.Exists(_unit));

        File.WriteAllText(_unit, Marker + " (ours)\n");
        pwsh.Run("Unregister-CastraHostShutdown -UnitDirectory $units -NoSystemctl -WhatIf");
        Assert.True(File.Exists(_unit));
    }

    [Fact]
    public void A_foreign_unit_is_a_non_terminating_error_until_Force()
    {
        const string theirs = "[Service]\nExecStop=/usr/local/bin/theirs\n";
        File.WriteAllText(_unit, theirs);
        using var pwsh = Session();

        var result = pwsh.Run(Register + "; 'after'");

        Assert.Equal(["after"], result.Output.Select(o => o.BaseObject));
        var error = Assert.Single(result.Errors);
        Assert.Equal("CastraHostShutdownUnitForeign,Castra.PowerShell.Commands.RegisterCastraHostShutdownCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceExists, error.CategoryInfo.Category);
        Assert.Equal(_unit, error.TargetObject);
        Assert.Contains("-Force", error.ErrorDetails.Message, StringComparison.Ordinal);
        Assert.Equal(theirs, File.ReadAllText(_unit));

        var removal = Assert.Single(pwsh.Run("Unregister-CastraHostShutdown -UnitDirectory $units -NoSystemctl").Errors);
        Assert.Equal("CastraHostShutdownUnitForeign,Castra.PowerShell.Commands.UnregisterCastraHostShutdownCommand", removal.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, removal.CategoryInfo.Category);
        Assert.Equal(theirs, File.ReadAllText(_unit));

        Assert.Empty(pwsh.Run(Register + " -Force").Errors);
        Assert.StartsWith(Marker, File.ReadAllText(_unit), StringComparison.Ordinal);
    }

    [Fact]
    public void Unregister_deletes_only_its_own_unit_and_reports_a_missing_one()
    {
        using var pwsh = Session();
        Assert.Empty(pwsh.Run(Register).Errors);

        var removed = pwsh.Run("Unregister-CastraHostShutdown -UnitDirectory $units -NoSystemctl -PassThru");

        Assert.Equal("Removed", Assert.Single(removed.Output).Text("Action"));
        Assert.Contains("systemctl daemon-reload", Assert.Single(removed.Warnings).Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_unit));

        var missing = Assert.Single(pwsh.Run("Unregister-CastraHostShutdown -UnitDirectory $units -NoSystemctl").Errors);
        Assert.Equal("CastraHostShutdownUnitNotFound,Castra.PowerShell.Commands.UnregisterCastraHostShutdownCommand", missing.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, missing.CategoryInfo.Category);
    }

    [Fact]
    public void A_link_at_the_unit_path_is_refused_as_a_security_error()
    {
        var elsewhere = Path.Combine(_root.Path, "target.service");
        File.WriteAllText(elsewhere, "precious\n");
        File.CreateSymbolicLink(_unit, elsewhere);
        using var pwsh = Session();

        var error = Assert.Single(pwsh.Run(Register + " -Force").Errors);

        Assert.Equal("CastraUnsafeStateFile,Castra.PowerShell.Commands.RegisterCastraHostShutdownCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
        Assert.Equal("precious\n", File.ReadAllText(elsewhere));
        Assert.Equal(elsewhere, new FileInfo(_unit).LinkTarget);
    }

    [Theory]
    [InlineData("-After 'not a unit'")]
    [InlineData("-Before \"x.service`nExecStart=/bin/evil\"")]
    [InlineData("-UnitName castra.timer")]
    [InlineData("-Margin -1")]
    public void Bad_parameters_fail_binding(string parameters)
    {
        using var pwsh = Session();

        var error = pwsh.RunExpectingTermination(Register + " " + parameters);

        Assert.StartsWith("ParameterArgumentValidationError", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_units));
    }

    [Fact]
    public void A_castra_that_does_not_exist_ends_the_call()
    {
        using var pwsh = Session();

        var error = pwsh.RunExpectingTermination("Register-CastraHostShutdown -StateRoot $root -UnitDirectory $units -CastraPath /nonexistent/castra -NoSystemctl");

        Assert.Equal("CastraCliNotFound,Castra.PowerShell.Commands.RegisterCastraHostShutdownCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Empty(Directory.GetFileSystemEntries(_units));
    }
}

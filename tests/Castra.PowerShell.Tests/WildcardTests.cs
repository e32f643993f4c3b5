using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>VM name patterns follow PowerShell's own WildcardPattern (case-insensitive); literal names are exact.</summary>
public sealed class WildcardTests : IDisposable
{
    private static readonly string[] Names = ["web", "web2", "www", "db", "Web-Up", "a.b", "a_b", "x1", "x-1"];

    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public WildcardTests()
    {
        foreach (var name in Names)
        {
            _root.Define(name);
        }

        _pwsh.Set("root", _root.Path);
    }

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    [Theory]
    [InlineData("*")]
    [InlineData("w*")]
    [InlineData("W*")]
    [InlineData("web?")]
    [InlineData("[a-d]*")]
    [InlineData("*[0-9]")]
    [InlineData("a?b")]
    [InlineData("x[-]1")]
    [InlineData("[w]eb*")]
    [InlineData("*.*")]
    [InlineData("[a-c]?[a-c]")]
    [InlineData("z*")]
    public void A_pattern_selects_the_VMs_PowerShells_WildcardPattern_matches(string pattern)
    {
        var expected = Names.Where(n => new WildcardPattern(pattern, WildcardOptions.IgnoreCase).IsMatch(n)).Order(StringComparer.Ordinal);
        _pwsh.Set("pattern", pattern);

        var result = _pwsh.Run("Get-CastraVm $pattern -StateRoot $root");

        Assert.Empty(result.Errors); // a pattern may match nothing, as with Get-ChildItem
        Assert.Equal(expected, result.Output.Select(o => o.Text("Name")!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Stop_CastraVm_applies_the_same_patterns()
    {
        _pwsh.Run("Stop-CastraVm 'w*', '[d]?' -StateRoot $root -WhatIf");

        var planned = _pwsh.Host.Interface.Lines.Where(l => l.StartsWith("What if: Stop VM '", StringComparison.Ordinal))
            .Select(l => l.Split('\'')[1]).Order(StringComparer.Ordinal);
        Assert.Equal(["Web-Up", "db", "web", "web2", "www"], planned);
    }

    [Theory]
    [InlineData("WEB")]
    [InlineData("nosuch")]
    public void A_literal_name_must_match_exactly_and_an_unknown_one_is_that_names_error(string name)
    {
        _pwsh.Set("name", name);

        var result = _pwsh.Run("Get-CastraVm $name, web -StateRoot $root");

        Assert.Equal("web", Assert.Single(result.Output).Text("Name"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("CastraVmNotFound,Castra.PowerShell.Commands.GetCastraVmCommand", error.FullyQualifiedErrorId);
        Assert.Equal(name, error.TargetObject);
    }

    [Fact]
    public void A_name_given_twice_or_matched_by_two_patterns_is_selected_once()
    {
        var result = _pwsh.Run("Get-CastraVm web, 'we*', web -StateRoot $root");

        Assert.Equal(["Web-Up", "web", "web2"], result.Output.Select(o => o.Text("Name")!).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("[]*")]
    [InlineData("we[b")]
    public void An_invalid_pattern_is_its_own_error_and_the_other_names_are_still_served(string pattern)
    {
        _pwsh.Set("pattern", pattern);

        var result = _pwsh.Run("Get-CastraVm $pattern, db -StateRoot $root");

        var error = Assert.Single(result.Errors);
        Assert.Equal("CastraInvalidWildcard,Castra.PowerShell.Commands.GetCastraVmCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Equal(pattern, error.TargetObject);
        Assert.Equal(["db"], result.Output.Select(o => o.Text("Name")));
    }
}

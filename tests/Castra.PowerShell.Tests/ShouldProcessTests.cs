using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>-WhatIf, -Confirm and $ConfirmPreference, answered by a host the way a person at a terminal would.</summary>
public sealed class ShouldProcessTests : IDisposable
{
    private readonly FakeStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private PwshSession Session(params string[] answers) => new PwshSession(new ScriptedHost(answers)).Set("root", _root.Path);

    [Fact]
    public void WhatIf_shows_each_VMs_plan_and_touches_nothing()
    {
        var web = _root.Launch("web");
        using var pwsh = Session();

        var result = pwsh.Run("Stop-CastraVm web -StateRoot $root -WhatIf");

        Assert.Empty(result.Output);
        Assert.Empty(result.Errors);
        var line = Assert.Single(pwsh.Host.Interface.Lines, l => l.StartsWith("What if:", StringComparison.Ordinal));
        Assert.StartsWith("What if: Stop VM 'web' (Running): ACPI power button", line, StringComparison.Ordinal);
        Assert.Contains("worst case 75s", line, StringComparison.Ordinal);
        Assert.True(web.IsAlive);
        Assert.DoesNotContain("cmd:system_powerdown", web.Records);
        Assert.Empty(pwsh.Run("Get-CastraShutdownStatus web -StateRoot $root").Output);
    }

    [Fact]
    public void WhatIfPreference_applies_like_the_switch()
    {
        var web = _root.Launch("web");
        using var pwsh = Session();

        var result = pwsh.Run("$WhatIfPreference = $true; Stop-CastraVm web -StateRoot $root; Register-CastraCleanupHook h -FilePath /bin/true -StateRoot $root");

        Assert.Empty(result.Output);
        Assert.Equal(2, pwsh.Host.Interface.Lines.Count(l => l.StartsWith("What if:", StringComparison.Ordinal)));
        Assert.DoesNotContain("cmd:system_powerdown", web.Records);
        Assert.Empty(pwsh.Run("$WhatIfPreference = $false; Get-CastraCleanupHook -StateRoot $root").Output);
    }

    [Fact]
    public void Confirm_asks_per_VM_and_stops_only_the_VMs_the_user_accepts()
    {
        var a = _root.Launch("a");
        var b = _root.Launch("b");
        using var pwsh = Session("Yes", "No");

        var result = pwsh.Run("Stop-CastraVm a, b -StateRoot $root -Confirm");

        Assert.Equal(2, pwsh.Host.Interface.Prompts.Count);
        Assert.Contains("'a'", pwsh.Host.Interface.Prompts[0], StringComparison.Ordinal);
        Assert.Contains("'b'", pwsh.Host.Interface.Prompts[1], StringComparison.Ordinal);
        Assert.Equal(["a"], result.Events.Select(e => e.Text("VmName")).Distinct());
        Assert.Equal("Graceful", result.Events[^1].Text("Outcome"));
        Assert.Contains("cmd:system_powerdown", a.Records);
        Assert.True(b.IsAlive);
        Assert.DoesNotContain("qmp-connect", b.Records);
    }

    [Fact]
    public void Yes_to_All_answers_every_remaining_VM_of_the_call()
    {
        _root.Launch("a");
        _root.Launch("b");
        using var pwsh = Session("Yes to All");

        var result = pwsh.Run("Stop-CastraVm a, b -StateRoot $root -Confirm");

        Assert.Single(pwsh.Host.Interface.Prompts);
        Assert.Equal(["a", "b"], result.Events.Select(e => e.Text("VmName")!).Distinct().Order());
    }

    [Theory]
    [InlineData("Medium", 1)]
    [InlineData("High", 0)]
    public void ConfirmPreference_prompts_for_the_Medium_impact_stop_only_at_Medium_or_lower(string preference, int prompts)
    {
        _root.Launch("web");
        using var pwsh = Session(Enumerable.Repeat("Yes", prompts).ToArray());
        pwsh.Set("preference", preference);

        var result = pwsh.Run("$ConfirmPreference = $preference; Stop-CastraVm web -StateRoot $root");

        Assert.Equal(prompts, pwsh.Host.Interface.Prompts.Count);
        Assert.Equal("Graceful", result.Events[^1].Text("Outcome"));
    }

    [Fact]
    public void Confirm_false_overrides_a_low_ConfirmPreference()
    {
        _root.Launch("web");
        using var pwsh = Session();

        var result = pwsh.Run("$ConfirmPreference = 'Low'; Stop-CastraVm web -StateRoot $root -Confirm:$false");

        Assert.Empty(pwsh.Host.Interface.Prompts);
        Assert.Equal("Graceful", result.Events[^1].Text("Outcome"));
    }

    [Fact]
    public void Declining_to_unregister_a_hook_keeps_it()
    {
        using var pwsh = Session("No", "Yes");

        pwsh.Run("Register-CastraCleanupHook flush -FilePath /bin/true -StateRoot $root; Unregister-CastraCleanupHook flush -StateRoot $root -Confirm");
        Assert.Equal(["flush"], pwsh.Run("Get-CastraCleanupHook -StateRoot $root").Output.Select(o => o.Text("Name")));

        pwsh.Run("Unregister-CastraCleanupHook flush -StateRoot $root -Confirm");
        Assert.Empty(pwsh.Run("Get-CastraCleanupHook -StateRoot $root").Output);
        Assert.Equal(2, pwsh.Host.Interface.Prompts.Count);
    }
}

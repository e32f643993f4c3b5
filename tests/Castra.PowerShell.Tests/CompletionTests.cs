using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>Tab completion as PowerShell runs it (TabExpansion2): VM names and hook names from the state root on the line.</summary>
public sealed class CompletionTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public CompletionTests()
    {
        _root.Define("web");
        _root.Define("db");
        _pwsh.Set("root", _root.Path);
        // Programs, not script blocks: this process is no pwsh that a script-block hook could run in.
        var registered = _pwsh.Run("Register-CastraCleanupHook flush -FilePath /bin/true -StateRoot $root; Register-CastraCleanupHook notify -Stage PostStop -FilePath /bin/true -StateRoot $root");
        Assert.Empty(registered.Errors);
    }

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    private IReadOnlyList<string> Complete(string line)
    {
        _pwsh.Set("line", line.Replace("ROOT", _root.Path, StringComparison.Ordinal));
        return [.. _pwsh.Run("(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText").Output.Select(o => o.ToString())];
    }

    [Theory]
    [InlineData("Stop-CastraVm -StateRoot ROOT -Name w")]
    [InlineData("Stop-CastraVm -StateRoot ROOT w")]
    [InlineData("Get-CastraVm -StateRoot ROOT w")]
    [InlineData("Get-CastraShutdownStatus -StateRoot ROOT -Name w")]
    [InlineData("Start-CastraVm -StateRoot ROOT -Name w")]
    [InlineData("Get-CastraVmSession -StateRoot ROOT -VmName w")]
    [InlineData("Start-CastraVmSession -StateRoot ROOT -VmName w")]
    [InlineData("Register-CastraCleanupHook -StateRoot ROOT -VmName w")]
    [InlineData("Get-CastraCleanupHook -StateRoot ROOT -VmName w")]
    [InlineData("Unregister-CastraCleanupHook -StateRoot ROOT -VmName w")]
    public void Vm_names_complete_from_the_state_root_on_the_line(string line)
    {
        Assert.Equal(["web"], Complete(line));
    }

    [Theory]
    [InlineData("Get-CastraCleanupHook -StateRoot ROOT -Name f")]
    [InlineData("Unregister-CastraCleanupHook -StateRoot ROOT -Name f")]
    [InlineData("Unregister-CastraCleanupHook -StateRoot ROOT f")]
    public void Hook_names_complete_on_the_hook_cmdlets(string line)
    {
        Assert.Equal(["flush"], Complete(line));
    }
}

using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>The engine's messages name PowerShell's own parameters and cmdlets here, never the CLI's options.</summary>
public sealed class WordingTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public WordingTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void A_hint_about_the_guest_agent_names_Start_CastraVm_GuestAgent()
    {
        _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm web -StateRoot $root -Method Agent -CooperativeTimeout 1");

        var timedOut = result.Events.Single(e => e.Text("Type") == "CooperativeTimedOut");
        Assert.Contains("(Start-CastraVm web -GuestAgent)", timedOut.Text("Hint") ?? "");
        Assert.DoesNotContain("castra up", timedOut.Text("Hint") ?? "");
        Assert.Contains(result.Warnings, w => w.Message.Contains("Start-CastraVm web -GuestAgent", StringComparison.Ordinal));
    }

    [Fact]
    public void Hook_errors_name_the_cmdlet_parameters()
    {
        var result = _pwsh.Run("""
            Register-CastraCleanupHook flush -StateRoot $root -FilePath /bin/true
            Register-CastraCleanupHook flush -StateRoot $root -FilePath /bin/true
            Register-CastraCleanupHook flush -StateRoot $root -VmName web -FilePath /bin/true
            Unregister-CastraCleanupHook flush -StateRoot $root -Confirm:$false
            """);

        Assert.Equal(2, result.Errors.Count);
        Assert.Contains("use -Force to replace it", result.Errors[0].Exception.Message);
        Assert.Contains("say which (-VmName)", result.Errors[1].Exception.Message);
        Assert.All(result.Errors, e => Assert.DoesNotContain("--", e.Exception.Message));
    }
}

using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// PowerShell.Stop() in the middle of a shutdown: what Ctrl+C at a prompt does. Every wait stops, no further signal
/// is sent, the run is recorded as Cancelled, and running Stop-CastraVm again later starts a new sequence.
/// </summary>
public sealed class PipelineStopTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public PipelineStopTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    private PSObject Status(string vm) => Assert.Single(_pwsh.Run($"Get-CastraShutdownStatus {vm} -StateRoot $root").Output);

    [Fact]
    public void Stopping_the_pipeline_during_the_cooperative_wait_cancels_and_leaves_QEMU_running()
    {
        var slow = _root.Launch("slow", "ignore-acpi");
        using var ps = _pwsh.Prepare("Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 600");
        var output = new PSDataCollection<PSObject>();
        var invocation = ps.BeginInvoke<PSObject, PSObject>(null, output);
        Poll.Until(() => slow.Records.Contains("cmd:system_powerdown") && output.Any(e => e.Text("Type") == "CooperativeAttempted"),
            "the ACPI button press and its event");

        ps.Stop();

        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(invocation));
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted"], output.Select(e => e.Text("Type")).Take(2));
        Assert.True(slow.IsAlive);
        Assert.DoesNotContain("signal:TERM", slow.Records);

        var status = Status("slow");
        Assert.Equal("Complete", status.Text("State"));
        Assert.Equal("Cancelled", status.Text("Outcome"));
        Assert.Equal(output[0].Text("ShutdownId"), status.Text("ShutdownId"));

        // Safe to run again: a new sequence, which this time is allowed to force the VM.
        var again = _pwsh.Run("Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 0.2 -WarningAction SilentlyContinue");
        Assert.NotEqual(output[0].Text("ShutdownId"), again.Events[0].Text("ShutdownId"));
        Assert.Equal("Forced", again.Events[^1].Text("Outcome"));
        Poll.Until(() => !slow.IsAlive, "the forced VM to be gone");
    }

    [Fact]
    public void A_VM_that_finished_before_the_stop_keeps_its_outcome_and_only_the_waiting_one_is_cancelled()
    {
        _root.Launch("fast");
        var slow = _root.Launch("slow", "ignore-acpi");
        using var ps = _pwsh.Prepare("Stop-CastraVm fast, slow -StateRoot $root -CooperativeTimeout 600");
        var output = new PSDataCollection<PSObject>();
        var invocation = ps.BeginInvoke<PSObject, PSObject>(null, output);
        Poll.Until(() => output.Any(e => e.Text("VmName") == "fast" && e.Text("Type") == "ShutdownComplete")
            && slow.Records.Contains("cmd:system_powerdown"), "fast to finish while slow waits");

        ps.Stop();

        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Assert.Equal("Graceful", Status("fast").Text("Outcome"));
        Assert.Equal("Cancelled", Status("slow").Text("Outcome"));
        Assert.True(slow.IsAlive);
        Assert.True(invocation.IsCompleted);
    }

    [Fact]
    public void Stopping_during_a_PreStop_hook_kills_it_and_its_HookStarted_gets_a_Cancelled_HookCompleted()
    {
        var vm = _root.Launch("web");
        _pwsh.Run("Register-CastraCleanupHook waits -FilePath /bin/sleep -ArgumentList 61.25 -Timeout 120 -StateRoot $root");
        using var ps = _pwsh.Prepare("Stop-CastraVm web -StateRoot $root");
        var output = new PSDataCollection<PSObject>();
        var invocation = ps.BeginInvoke<PSObject, PSObject>(null, output);
        Poll.Until(() => output.Any(e => e.Text("Type") == "HookStarted"), "the hook to start");

        ps.Stop();
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(invocation));

        // The journal holds the whole truth, whatever reached the stopped pipeline.
        var journal = File.ReadAllLines(Path.Combine(_root.VmDirectory("web"), "events.ndjson"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        var types = journal.Select(e => e.GetProperty("Type").GetString()).ToList();
        Assert.Equal(["ShutdownRequested", "HookStarted", "HookCompleted", "ShutdownComplete"], types);
        Assert.Equal("Cancelled", journal[2].GetProperty("Status").GetString());
        Assert.Equal("Cancelled", journal[3].GetProperty("Outcome").GetString());
        Assert.True(vm.IsAlive, "the guest was never asked");
        Poll.Until(() => !HookStillRuns(), "the cancelled hook's process to be gone", 10);
    }

    /// <summary>Any process running this test's hook command (its argument is unique to this test).</summary>
    private static bool HookStillRuns() =>
        Directory.EnumerateDirectories("/proc").Any(dir =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(dir, "cmdline")) == "/bin/sleep\061.25\0";
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        });
}

using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>What the cmdlet writes besides its objects: -Verbose lines, warnings, and one progress bar per VM.</summary>
public sealed class StreamTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public StreamTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    private static IReadOnlyList<string> ShutdownLines(ScriptResult result) =>
        [.. result.Verbose.Select(v => v.Message).Where(m => m.StartsWith("[SHD] ", StringComparison.Ordinal))];

    [Fact]
    public void Verbose_says_how_the_run_decided_and_never_repeats_an_event()
    {
        _root.Launch("web");
        _pwsh.Run("Register-CastraCleanupHook flush -FilePath /bin/true -StateRoot $root");

        var result = _pwsh.Run("Stop-CastraVm web -StateRoot $root -Verbose");

        var lines = ShutdownLines(result);
        Assert.All(lines, l => Assert.StartsWith("[SHD] web: ", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[SHD] web: QEMU PID ", StringComparison.Ordinal) && l.Contains("is the VM's", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[SHD] web: 1 PreStop hook and 0 PostStop hooks to run (flush", StringComparison.Ordinal));

        // Each event is shown once, as an output object: no verbose line repeats one (-Verbose used to show each twice).
        Assert.DoesNotContain(lines, l => result.Events.Any(e => l.EndsWith(e.Text("Summary") ?? "\0", StringComparison.Ordinal)));
    }

    [Fact]
    public void Without_Verbose_the_verbose_stream_stays_empty()
    {
        _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm web -StateRoot $root");

        Assert.Equal(4, result.Events.Count);
        Assert.Empty(result.Verbose);
    }

    [Fact]
    public void A_VM_that_had_to_be_forced_is_a_warning_and_a_graceful_one_is_not()
    {
        var slow = _root.Launch("slow", "ignore-acpi");
        _root.Launch("fine");

        var result = _pwsh.Run("Stop-CastraVm slow, fine -StateRoot $root -CooperativeTimeout 0.3");

        var warning = Assert.Single(result.Warnings);
        Assert.Equal("slow had to be forced: the guest did not power itself off", warning.Message);
        Assert.Equal("Forced", result.Events.Last(e => e.Text("VmName") == "slow").Text("Outcome"));
        Assert.Equal("Graceful", result.Events.Last(e => e.Text("VmName") == "fine").Text("Outcome"));
        Assert.Contains("signal:TERM", slow.Records);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Each_VM_has_its_own_progress_activity_with_a_countdown_that_ends_Completed()
    {
        _root.Launch("a");
        _root.Launch("b", "ignore-acpi");

        var result = _pwsh.Run("Stop-CastraVm a, b -StateRoot $root -CooperativeTimeout 2");

        var byActivity = result.Progress.GroupBy(p => p.ActivityId).ToList();
        Assert.Equal(2, byActivity.Count);
        Assert.Equal(["Stopping VM a", "Stopping VM b"], byActivity.Select(g => g.First().Activity).Order());
        foreach (var activity in byActivity)
        {
            Assert.All(activity, p => Assert.Equal(activity.First().Activity, p.Activity));
            Assert.Equal(ProgressRecordType.Completed, activity.Last().RecordType);
            Assert.All(activity.SkipLast(1), p => Assert.Equal(ProgressRecordType.Processing, p.RecordType));
            Assert.Contains(activity, p => p.StatusDescription.StartsWith("Waiting for the guest", StringComparison.Ordinal) && p.SecondsRemaining > 0);
        }

        Assert.Equal("Complete: Graceful", byActivity.Single(g => g.First().Activity.EndsWith('a')).Last().StatusDescription);
        Assert.Equal("Complete: Forced", byActivity.Single(g => g.First().Activity.EndsWith('b')).Last().StatusDescription);
    }
}

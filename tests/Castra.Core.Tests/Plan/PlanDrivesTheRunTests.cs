using Castra.Hooks;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Plan;

/// <summary>One object: what the preview says a shutdown may take is what the run records as its deadline.</summary>
public sealed class PlanDrivesTheRunTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task The_status_deadline_of_a_run_is_the_worst_case_its_preview_showed()
    {
        _root.Launch("web", "graceful");
        HookScripts.Register(_root, "export", "exit 0", timeoutSeconds: 7, priority: 50);
        HookScripts.Register(_root, "flush", "exit 0", timeoutSeconds: 3, priority: 60);
        HookScripts.Register(_root, "release", "exit 0", stage: HookStage.PostStop, timeoutSeconds: 2);
        var options = new ShutdownOptions { TermTimeout = TimeSpan.FromSeconds(4) };

        var preview = Assert.Single(await new ShutdownEngine(_root.Root).PreviewAsync(["web"], options));
        var result = Assert.Single(await new ShutdownEngine(_root.Root).StopAsync(["web"], options, new RecordingObserver()));

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        var status = StatusStore.TryRead(_root.Vm("web"))!;
        Assert.Equal(preview.WorstCaseMs, (long)Math.Round((status.Deadline - status.StartedAt).TotalMilliseconds));
        Assert.Equal(3, status.HooksTotal);
        Assert.Equal(3, status.HooksCompleted);
    }

    [Fact]
    public void Status_writes_refuse_to_run_off_the_state_IO_threads()
    {
        var dir = VmDirectory.OpenOrCreate(_root.Vm("web"));
        using (dir)
        {
            var tracker = new StatusTracker(dir, new StatusDocument { VmName = "web", ShutdownId = "x", Phase = "Requested", OwnerPid = 1 }, new RecordingObserver());

            var ex = Assert.Throws<InvalidOperationException>(() => tracker.CompleteHere(ShutdownOutcome.Graceful, false, 0, null, DateTime.UtcNow, null));
            Assert.Contains("state I/O threads", ex.Message, StringComparison.Ordinal);
        }
    }
}

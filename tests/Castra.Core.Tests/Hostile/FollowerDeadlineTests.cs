using System.Text.Json;
using Castra.Errors;
using Castra.Events;
using Castra.Processes;
using Castra.Serialization;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Hostile;

/// <summary>A second caller follows the owner's shutdown for as long as the owner's own (growing) deadline allows.</summary>
public sealed class FollowerDeadlineTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task A_follower_keeps_following_when_the_owner_extends_its_deadline_and_reports_its_outcome()
    {
        var vm = _root.Vm("web");
        Directory.CreateDirectory(vm.Directory);
        using var dir = VmDirectory.TryOpen(vm)!;
        using var ownerLock = VmLock.TryAcquire(dir)!; // this test plays the owner
        var started = DateTime.UtcNow;
        var status = new StatusDocument
        {
            VmName = "web",
            ShutdownId = "20261130T000000Z-0000f011",
            Phase = "Cooperative",
            Reason = "UserRequested",
            StartedAt = started,
            UpdatedAt = started,
            Deadline = started.AddSeconds(1),
            OwnerPid = OwnerProcess.Pid,
            OwnerStartTime = OwnerProcess.StartTime,
            OwnerHost = Environment.MachineName,
        };
        Write(vm, status);

        var observer = new RecordingObserver();
        var following = new ShutdownEngine(_root.Root).StopAsync(["web"], new ShutdownOptions(), observer);

        // The owner found hooks to run: its deadline moves a minute out (as VmShutdown records it).
        await Task.Delay(1500);
        status.Deadline = started.AddSeconds(60);
        Write(vm, status);

        // Past the first deadline and the follower's grace (10 s): the old follower had given up by now.
        await Task.Delay(TimeSpan.FromSeconds(11));
        Assert.False(following.IsCompleted, "the follower gave up while the owner was within its extended deadline");
        var complete = new ShutdownCompleteEvent { VmName = "web", ShutdownId = status.ShutdownId, Sequence = 2, Timestamp = DateTime.UtcNow, Outcome = "Graceful", TotalMs = 12_500, Changed = true };
        File.AppendAllText(vm.Journal, EventJson.Serialize(complete) + "\n");
        status.Phase = "Complete";
        status.Outcome = "Graceful";
        Write(vm, status);

        var result = (await following.WaitAsync(TimeSpan.FromSeconds(30))).Single();
        Assert.Equal((ShutdownOutcome.Graceful, true), (result.Outcome, result.Changed));
        Assert.DoesNotContain(observer.Diagnostics, d => d.ErrorId == ErrorIds.FollowTimeout);
        Assert.Equal(["ShutdownComplete"], observer.TypesFor("web"));
    }

    private static void Write(VmPaths vm, StatusDocument status) =>
        File.WriteAllText(vm.Status, JsonSerializer.Serialize(status, CastraJsonContext.Default.StatusDocument));
}

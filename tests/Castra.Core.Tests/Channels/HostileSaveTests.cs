using System.Diagnostics;
using Castra.Events;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;
using static Castra.Tests.Support.HostileScripts;

namespace Castra.Tests.Channels;

/// <summary>
/// The Save escalation against a fake QEMU whose qmp.sock is relayed to a hostile in-process monitor: a migrate or
/// query-migrate answered with garbage, or a migration that never ends, is a SaveFailed with a printable reason,
/// no image is kept, and the ladder goes on to SIGTERM, all within the plan's bounds.
/// </summary>
public sealed class HostileSaveTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    public static TheoryData<string, string, string, string> HostileMonitors() => new()
    {
        // command answered badly, its answer, SaveFailed.Reason, a fragment of SaveFailed.Detail
        { "migrate", "garbage, not JSON", "ChannelError", "not JSON" },
        { "migrate", """{"return": [1, 2], "id": $ID}""", "ChannelError", "its return is a JSON array, not an object" },
        { "migrate", """{"id": $ID, "error": {"class": "GenericError", "desc": "State blocked by non-migratable device '\u001b[31mvfio'"}}""", "MigrationFailed", "QEMU refused migrate: GenericError: State blocked by non-migratable device '\\x1B[31mvfio'" },
        { "query-migrate", """{"return": {"status": 42}, "id": $ID}""", "ChannelError", "its status is not a migration state name" },
        { "query-migrate", """{"return": {"status": "\u001b[2J"}, "id": $ID}""", "ChannelError", "its status is not a migration state name" },
        { "query-migrate", """{"return": {"status": "failed", "error-desc": "\u202edisk\nfull"}, "id": $ID}""", "MigrationFailed", "QEMU reports the migration failed: \\u202Edisk\\x0Afull" },
        { "query-migrate", """{"return": {"status": "active"}, "id": $ID}""", "TimeoutExpired", "save timeout" },
    };

    [Theory]
    [MemberData(nameof(HostileMonitors))]
    public async Task A_hostile_answer_during_the_save_is_a_SaveFailed_then_SIGTERM(string command, string answer, string reason, string fragment)
    {
        var guests = Path.Combine(_root.Path, "guests");
        Directory.CreateDirectory(guests);
        await using var monitor = new HostileChannelServer(Path.Combine(guests, "qmp.sock"), Monitor(command, Send(answer)));
        var vm = _root.Launch("web", "ignore-acpi", qmp: false, extraArgs: ["--fake-relay", $"{_root.Vm("web").QmpSocket}={monitor.Path}"]);
        RecordLaunch(_root.Vm("web"));

        var observer = new RecordingObserver();
        var watch = Stopwatch.StartNew();
        var result = (await new ShutdownEngine(_root.Root).StopAsync(["web"], new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(1),
            Escalation = ShutdownEscalation.Save,
            SaveTimeout = TimeSpan.FromSeconds(2),
        }, observer)).Single();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "SaveAttempted", "SaveFailed", "Escalation", "ShutdownComplete"], observer.TypesFor("web"));
        var failed = observer.Events.OfType<SaveFailedEvent>().Single();
        Assert.Equal(reason, failed.Reason);
        Assert.Contains(fragment, failed.Detail, StringComparison.Ordinal);
        ChannelAssert.Printable(failed.Detail);
        Assert.Equal(ShutdownOutcome.Forced, result.Outcome);
        Assert.False(vm.IsAlive);
        Assert.False(File.Exists(Path.Combine(_root.Vm("web").Directory, SavedStateStore.ImageName)));
        Assert.False(File.Exists(Path.Combine(_root.Vm("web").Directory, SavedStateStore.PartialName)));
    }

    [Fact]
    public async Task A_save_cancelled_by_the_caller_cancels_the_migration_and_resumes_the_guest_then_sends_no_signal()
    {
        var guests = Path.Combine(_root.Path, "guests");
        Directory.CreateDirectory(guests);
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var monitor = new HostileChannelServer(Path.Combine(guests, "qmp.sock"), Monitor("none", Silence, received));
        var vm = _root.Launch("web", "ignore-acpi", qmp: false, extraArgs: ["--fake-relay", $"{_root.Vm("web").QmpSocket}={monitor.Path}"]);
        RecordLaunch(_root.Vm("web"));
        using var cancel = new CancellationTokenSource();
        var observer = new RecordingObserver();
        observer.WhenEvent(e =>
        {
            if (e is SaveAttemptedEvent)
            {
                cancel.CancelAfter(TimeSpan.FromMilliseconds(500));
            }
        });

        var result = (await new ShutdownEngine(_root.Root).StopAsync(["web"], new ShutdownOptions { Save = true, SaveTimeout = TimeSpan.FromSeconds(60) }, observer, cancel.Token)).Single();

        Assert.Equal(ShutdownOutcome.Cancelled, result.Outcome);
        Assert.Equal(["ShutdownRequested", "SaveAttempted", "ShutdownComplete"], observer.TypesFor("web"));
        Assert.Contains("migrate", received);
        Assert.Contains("migrate_cancel", received);
        Assert.Contains("cont", received);
        Assert.True(vm.IsAlive, "no signal after a cancellation");
        Assert.False(File.Exists(Path.Combine(_root.Vm("web").Directory, SavedStateStore.PartialName)));
        vm.Kill();
    }

    [Fact]
    public async Task A_VM_not_started_by_Castra_is_not_saved_and_a_plain_save_leaves_it_running()
    {
        var vm = _root.Launch("byo", "ignore-acpi");

        var observer = new RecordingObserver();
        var result = (await new ShutdownEngine(_root.Root).StopAsync(["byo"], new ShutdownOptions { Save = true }, observer)).Single();

        Assert.Equal(["ShutdownRequested", "SaveAttempted", "SaveFailed", "ShutdownComplete"], observer.TypesFor("byo"));
        Assert.Equal("NotResumable", observer.Events.OfType<SaveFailedEvent>().Single().Reason);
        Assert.Equal(ShutdownOutcome.Failed, result.Outcome);
        Assert.Equal(Castra.Errors.ErrorIds.SaveNotResumable, result.ErrorId);
        Assert.True(vm.IsAlive, "a failed save signals nothing");
        vm.Kill();
    }

    /// <summary>QEMU's answers to the save's commands, with <paramref name="responder"/> for <paramref name="command"/>.</summary>
    private static Func<HostileConnection, CancellationToken, Task> Monitor(string command, HostileResponder responder, System.Collections.Concurrent.ConcurrentQueue<string>? received = null) =>
        async (connection, ct) =>
        {
            await connection.SendLineAsync(Greeting, ct);
            while (await connection.ReadRequestAsync(ct) is { } request)
            {
                received?.Enqueue(request.Command);
                if (request.Command == command)
                {
                    await responder(connection, request, ct);
                }
                else if (request.Command is "qmp_capabilities" or "query-status" or "system_powerdown")
                {
                    await ProperQmp(connection, request, ct);
                }
                else if (request.Command == "query-migrate")
                {
                    await connection.SendLineAsync(request.Reply("""{"return": {"status": "active"}, "id": $ID}"""), ct);
                }
                else
                {
                    await connection.SendLineAsync(request.Reply("""{"return": {}, "id": $ID}"""), ct);
                }
            }
        };

    /// <summary>vm.json as castra up leaves it: a launch record, so that a save could be resumed.</summary>
    private static void RecordLaunch(VmPaths vm)
    {
        var definition = VmDefinitionStore.TryRead(vm) ?? new VmDefinition();
        definition.Launch = new LaunchRecord { Qemu = "/usr/bin/qemu-system-x86_64", Arguments = ["-name", vm.Name] };
        VmDefinitionStore.Write(vm, definition);
    }
}

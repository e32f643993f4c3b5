using System.Diagnostics.Metrics;
using System.Text.Json;
using Castra.Diagnostics;
using Castra.Events;
using Castra.Hooks;
using Castra.Shutdown;
using Castra.Tests.Support;

namespace Castra.Tests.Hooks;

/// <summary>The audit trail, the metrics on Meter "Castra", and the -SaveState snapshot.</summary>
public sealed class RecordAndMeasureTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private async Task<RecordingObserver> StopAsync(string[] names, ShutdownOptions? options = null)
    {
        var observer = new RecordingObserver();
        await new ShutdownEngine(_root.Root).StopAsync(names, options ?? new ShutdownOptions(), observer);
        return observer;
    }

    [Fact]
    public async Task Every_completed_shutdown_appends_one_audit_line_with_who_why_and_how()
    {
        _root.Launch("good", "graceful");
        _root.Launch("deaf", "ignore-acpi");
        var before = DateTime.UtcNow;

        await StopAsync(["good", "deaf"], new ShutdownOptions { Reason = ShutdownReason.Maintenance, Message = "kernel update", CooperativeTimeout = TimeSpan.FromSeconds(0.3) });

        var lines = File.ReadAllLines(_root.Root.AuditFile);
        Assert.Equal(2, lines.Length);
        var records = lines.Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(r => r.GetProperty("VmName").GetString()!);
        var good = records["good"];
        Assert.Equal("Maintenance", good.GetProperty("Reason").GetString());
        Assert.Equal("kernel update", good.GetProperty("Message").GetString());
        Assert.Equal(Environment.UserName, good.GetProperty("User").GetString());
        Assert.Equal(Environment.MachineName, good.GetProperty("Host").GetString());
        Assert.Equal("Graceful", good.GetProperty("Outcome").GetString());
        Assert.Equal("ACPI", good.GetProperty("Path").GetString());
        Assert.True(good.GetProperty("StartedAt").GetDateTimeOffset() >= before.AddSeconds(-1));
        Assert.True(good.GetProperty("TotalMs").GetInt64() >= 0);
        var deaf = records["deaf"];
        Assert.Equal("Forced", deaf.GetProperty("Outcome").GetString());
        Assert.Equal("ACPI,SIGTERM", deaf.GetProperty("Path").GetString());

        // A repeat on stopped VMs is audited too, as a no-op.
        await StopAsync(["good"]);
        var last = JsonDocument.Parse(File.ReadAllLines(_root.Root.AuditFile)[^1]).RootElement;
        Assert.Equal(("None", false), (last.GetProperty("Path").GetString(), last.GetProperty("Changed").GetBoolean()));
    }

    [Fact]
    public async Task Concurrent_appends_to_the_audit_trail_are_all_kept_whole()
    {
        // Many VMs finish at the same moment in one process (and several processes share the file): every line must
        // survive, whole. An append at a stale offset (FileMode.Append's seek-once) loses lines here.
        const int writers = 64, each = 20;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < each; i++)
            {
                AuditTrail.Append(_root.Root, new AuditRecord { VmName = $"vm{w}", ShutdownId = $"{w}-{i}", Outcome = "Graceful", Path = "ACPI", Detail = new string('x', 200 + (w * 7 % 300)) });
            }
        })));

        var ids = File.ReadAllLines(_root.Root.AuditFile).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("ShutdownId").GetString()).ToList();
        Assert.Equal(writers * each, ids.Count);
        Assert.Equal(writers * each, ids.Distinct().Count());
    }

    [Fact]
    public async Task Shutdowns_and_hooks_are_measured_on_the_Castra_meter()
    {
        var vm = "m-" + Guid.NewGuid().ToString("N")[..8]; // metrics are process-wide: this test's VM tag is unique
        _root.Launch(vm, "graceful");
        HookScripts.Register(_root, "ok", "exit 0");
        HookScripts.Register(_root, "bad", "exit 2");
        HookScripts.Register(_root, "slow", "sleep 100", timeoutSeconds: 0.2);
        var seen = new List<(string Instrument, double Value, Dictionary<string, string?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == CastraMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var dict = new Dictionary<string, string?>();
            foreach (var tag in tags)
            {
                dict[tag.Key] = tag.Value?.ToString();
            }

            if (dict.GetValueOrDefault("vm") == vm)
            {
                lock (seen)
                {
                    seen.Add((instrument.Name, value, dict));
                }
            }
        }

        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await StopAsync([vm]);

        Assert.Single(seen, m => m.Instrument == "castra.shutdown.graceful" && m.Value == 1);
        Assert.DoesNotContain(seen, m => m.Instrument == "castra.shutdown.forced");
        var duration = Assert.Single(seen, m => m.Instrument == "castra.shutdown.duration");
        Assert.Equal("Graceful", duration.Tags["outcome"]);
        Assert.Single(seen, m => m.Instrument == "castra.hook.succeeded" && m.Tags["hook"] == "ok");
        Assert.Single(seen, m => m.Instrument == "castra.hook.failed" && m.Tags["hook"] == "bad");
        Assert.Single(seen, m => m.Instrument == "castra.hook.timed_out" && m.Tags["hook"] == "slow");
        Assert.Equal(3, seen.Count(m => m.Instrument == "castra.hook.duration"));
        Assert.All(seen.Where(m => m.Instrument == "castra.hook.duration"), m => Assert.Equal("PreStop", m.Tags["stage"]));
    }

    [Fact]
    public async Task SaveState_writes_a_snapshot_with_status_events_hooks_and_the_serial_tail()
    {
        _root.Launch("dbg", "graceful");
        File.WriteAllLines(Path.Combine(_root.Vm("dbg").Directory, "serial.log"), Enumerable.Range(1, 150).Select(i => $"boot line {i}"));
        HookScripts.Register(_root, "export", "echo exported 42 rows");

        var observer = await StopAsync(["dbg"], new ShutdownOptions { SaveState = true });

        var complete = observer.For("dbg").OfType<ShutdownCompleteEvent>().Single();
        Assert.NotNull(complete.SaveStatePath);
        Assert.StartsWith(_root.Vm("dbg").Directory, complete.SaveStatePath);
        using var snapshot = JsonDocument.Parse(File.ReadAllText(complete.SaveStatePath));
        var root = snapshot.RootElement;
        Assert.Equal(complete.ShutdownId, root.GetProperty("ShutdownId").GetString());
        var types = root.GetProperty("Events").EnumerateArray().Select(e => e.GetProperty("Type").GetString()!).ToList();
        Assert.Equal(observer.TypesFor("dbg"), types);
        var hook = root.GetProperty("Hooks").EnumerateArray().Single();
        Assert.Equal(("export", "Succeeded"), (hook.GetProperty("Name").GetString(), hook.GetProperty("Status").GetString()));
        Assert.Contains("exported 42 rows", hook.GetProperty("LogTail").GetString());
        var serial = root.GetProperty("SerialLogTail").EnumerateArray().Select(l => l.GetString()).Where(l => l != "").ToList();
        Assert.Equal(ShutdownSnapshot.SerialTailLines - 1, serial.Count);
        Assert.Equal("boot line 150", serial[^1]);
        Assert.Equal(complete.SaveStatePath, Castra.State.StatusStore.TryRead(_root.Vm("dbg"))!.SaveStatePath);
    }

    [Fact]
    public async Task The_snapshot_holds_the_ShutdownComplete_event_and_the_final_status_and_exists_when_the_event_is_emitted()
    {
        _root.Launch("final", "graceful");
        HookScripts.Register(_root, "release", "exit 0", stage: HookStage.PostStop);
        var observer = new RecordingObserver();
        string? snapshotAtEvent = null;
        string? phaseAtEvent = null;
        observer.WhenEvent(e =>
        {
            if (e is ShutdownCompleteEvent { SaveStatePath: { } path })
            {
                // What a consumer that opens the file as soon as it sees the event finds.
                snapshotAtEvent = File.Exists(path) ? File.ReadAllText(path) : null;
                phaseAtEvent = Castra.State.StatusStore.TryRead(_root.Vm("final"))?.Phase;
            }
        });

        await new ShutdownEngine(_root.Root).StopAsync(["final"], new ShutdownOptions { SaveState = true }, observer);

        var complete = observer.For("final").OfType<ShutdownCompleteEvent>().Single();
        Assert.NotNull(snapshotAtEvent);
        Assert.NotEqual("Complete", phaseAtEvent); // shutdown.json says Complete only after the event is journaled
        using var snapshot = JsonDocument.Parse(snapshotAtEvent);
        var root = snapshot.RootElement;
        var events = root.GetProperty("Events").EnumerateArray().ToList();
        Assert.Equal(observer.For("final").Select(e => e.Sequence), events.Select(e => e.GetProperty("Sequence").GetInt32()));
        var last = events[^1];
        Assert.Equal("ShutdownComplete", last.GetProperty("Type").GetString());
        Assert.Equal(complete.Sequence, last.GetProperty("Sequence").GetInt32());
        Assert.Equal(complete.Outcome, last.GetProperty("Outcome").GetString());
        Assert.Equal(complete.SaveStatePath, last.GetProperty("SaveStatePath").GetString());
        Assert.Equal(complete.TotalMs, last.GetProperty("TotalMs").GetInt64());
        Assert.Equal(complete.Timestamp, last.GetProperty("Timestamp").GetDateTimeOffset());
        Assert.Equal(1, last.GetProperty("HooksSucceeded").GetInt32());

        var status = root.GetProperty("Status");
        Assert.Equal("Complete", status.GetProperty("Phase").GetString());
        Assert.Equal("Graceful", status.GetProperty("Outcome").GetString());
        Assert.True(status.GetProperty("Changed").GetBoolean());
        Assert.Equal(complete.TotalMs, status.GetProperty("TotalMs").GetInt64());
        Assert.Equal(complete.Timestamp, status.GetProperty("CompletedAt").GetDateTimeOffset());
        Assert.Equal(complete.SaveStatePath, status.GetProperty("SaveStatePath").GetString());
        Assert.Equal((1, 1), (status.GetProperty("HooksTotal").GetInt32(), status.GetProperty("HooksCompleted").GetInt32()));

        // shutdown.json, once complete, agrees with the snapshot.
        var final = Castra.State.StatusStore.TryRead(_root.Vm("final"))!;
        Assert.Equal(("Complete", "Graceful", complete.TotalMs, complete.SaveStatePath), (final.Phase, final.Outcome, final.TotalMs, final.SaveStatePath));
        Assert.Equal(complete.Timestamp, final.CompletedAt);
    }

    [Fact]
    public async Task A_snapshot_that_cannot_be_written_is_a_warning_and_leaves_SaveStatePath_absent()
    {
        _root.Launch("nosnap", "graceful");
        var vm = _root.Vm("nosnap");
        var observer = new RecordingObserver();
        observer.WhenEvent(e =>
        {
            if (e is ShutdownRequestedEvent)
            {
                // A directory where the snapshot file would go: the write fails, whoever runs the test.
                Directory.CreateDirectory(ShutdownSnapshot.PathFor(vm, e.ShutdownId));
            }
        });

        var results = await new ShutdownEngine(_root.Root).StopAsync(["nosnap"], new ShutdownOptions { SaveState = true }, observer);

        Assert.Equal(ShutdownOutcome.Graceful, results.Single().Outcome);
        var complete = observer.For("nosnap").OfType<ShutdownCompleteEvent>().Single();
        Assert.Null(complete.SaveStatePath);
        Assert.Null(Castra.State.StatusStore.TryRead(vm)!.SaveStatePath);
        Assert.Contains(observer.Diagnostics, d => d.Severity == Castra.Shutdown.DiagnosticSeverity.Warning && d.Message.Contains("-SaveState", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_SaveState_no_snapshot_is_written()
    {
        _root.Launch("plain", "graceful");

        var observer = await StopAsync(["plain"]);

        Assert.Null(observer.For("plain").OfType<ShutdownCompleteEvent>().Single().SaveStatePath);
        Assert.Empty(Directory.GetFiles(_root.Vm("plain").Directory, "*.snapshot.json"));
    }
}

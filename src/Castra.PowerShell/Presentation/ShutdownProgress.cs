using Castra.Events;

namespace Castra.PowerShell.Presentation;

/// <summary>
/// Per-VM progress for a face to display (Write-Progress): the stage a VM is in and the seconds left of its current
/// wait, derived from the events alone. Not thread-safe: feed it and read it from the one output thread.
/// </summary>
internal sealed class ShutdownProgress
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Updates the VM's entry; returns it (Completed once the VM's ShutdownComplete arrived).</summary>
    public ProgressSnapshot Observe(ShutdownEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        var entry = EntryOf(evt.VmName);

        (entry.Stage, entry.WaitEnds, entry.Completed) = evt switch
        {
            ShutdownRequestedEvent => ("Requested", (DateTime?)null, false),
            CooperativeAttemptedEvent { TimeoutMs: > 0 } a => ($"Waiting for the guest ({a.Method})", a.Timestamp.AddMilliseconds(a.TimeoutMs), false),
            CooperativeAttemptedEvent a => ($"Cooperative step: {a.Method}", null, false),
            EscalationEvent e => ($"Waiting after {e.Signal}", e.Timestamp.AddMilliseconds(e.WaitMs), false),
            SaveAttemptedEvent s => ("Saving the guest's state", s.Timestamp.AddMilliseconds(s.TimeoutMs), false),
            SaveFailedEvent s => ($"Save failed: {s.Reason}", null, false),
            HookStartedEvent h => ($"{h.Stage} hook {h.HookName}", h.Timestamp.AddMilliseconds(h.TimeoutMs), false),
            HookCompletedEvent h => ($"{h.Stage} hook {h.HookName}: {h.Status}", null, false),
            ShutdownCompleteEvent c => ($"Complete: {c.Outcome}", null, true),
            _ => (entry.Stage, entry.WaitEnds, entry.Completed),
        };
        return Snapshot(evt.VmName, entry, evt.Timestamp);
    }

    /// <summary>A VM waiting for an earlier group of the shutdown order, before its first event.</summary>
    public ProgressSnapshot Waiting(string vmName, string what)
    {
        ArgumentNullException.ThrowIfNull(vmName);
        var entry = EntryOf(vmName);
        var prefix = vmName + ": ";
        entry.Stage = what.StartsWith(prefix, StringComparison.Ordinal) ? what[prefix.Length..] : what;
        entry.WaitEnds = null;
        return Snapshot(vmName, entry, DateTime.UtcNow);
    }

    /// <summary>Current snapshots of the VMs still in progress, seconds remaining computed at <paramref name="now"/>.</summary>
    public IReadOnlyList<ProgressSnapshot> Active(DateTime now) =>
        _entries.Where(e => !e.Value.Completed).Select(e => Snapshot(e.Key, e.Value, now)).ToList();

    private Entry EntryOf(string vmName)
    {
        if (!_entries.TryGetValue(vmName, out var entry))
        {
            entry = new Entry(_entries.Count + 1);
            _entries[vmName] = entry;
        }

        return entry;
    }

    private static ProgressSnapshot Snapshot(string vm, Entry entry, DateTime now) => new(
        vm,
        entry.ActivityId,
        entry.Stage,
        entry.WaitEnds is { } end ? (int)Math.Max(0, Math.Ceiling((end - now).TotalSeconds)) : -1,
        entry.Completed);

    private sealed class Entry(int activityId)
    {
        public int ActivityId { get; } = activityId;

        public string Stage { get; set; } = "";

        public DateTime? WaitEnds { get; set; }

        public bool Completed { get; set; }
    }
}

/// <summary>One VM's progress: SecondsRemaining is -1 when no wait is running.</summary>
internal sealed record ProgressSnapshot(string VmName, int ActivityId, string Stage, int SecondsRemaining, bool Completed);

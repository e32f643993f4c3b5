using System.Diagnostics;
using Castra.Errors;
using Castra.Events;
using Castra.Processes;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Repeat safety across processes. The VM's lock decides who orchestrates; any other caller becomes a follower:
/// it replays the owner's journal lines for the current shutdown as they are written and reports the owner's
/// outcome, sending nothing itself. If the owner dies, its flock is released and the follower takes over.
/// </summary>
internal static class ShutdownFollower
{
    /// <summary>Grace beyond the owner's recorded deadline before a follower gives up.</summary>
    private static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(10);

    /// <summary>How long a held lock without a live shutdown record is tolerated (an owner between lock and first write).</summary>
    private static readonly TimeSpan UnrecordedLockPatience = TimeSpan.FromSeconds(10);

    /// <summary>A safety net under inotify: re-check at this interval even if no change notification arrives.</summary>
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Either the lock (caller orchestrates) or the followed shutdown's result.</summary>
    /// <exception cref="IOException">The lock file is unsafe or cannot be opened.</exception>
    /// <param name="options">This call's own options: what following ignores of them is said once, in a warning.</param>
    public static async Task<(VmLock? Lock, VmShutdownResult? Followed)> AcquireOrFollowAsync(VmDirectory dir, ShutdownOptions options, IShutdownObserver observer, CancellationToken cancellationToken)
    {
        var announced = false;
        var vm = dir.Paths;
        var waitingSince = Stopwatch.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var vmLock = VmLock.TryAcquire(dir);
            if (vmLock is not null)
            {
                return (vmLock, null);
            }

            StatusDocument? status = null;
            try
            {
                status = StatusStore.TryRead(dir);
            }
            catch (InvalidDataException)
            {
                // Being replaced right now, or damaged; look again shortly.
            }

            if (status?.IsInProgress() == true)
            {
                if (!announced)
                {
                    announced = true;
                    observer.OnDiagnostic(new ShutdownDiagnostic(vm.Name, DiagnosticSeverity.Warning, ErrorIds.Following, CastraErrorCategory.ResourceBusy, Following(vm, status, options)));
                }

                var followed = await FollowAsync(dir, status, observer, cancellationToken).ConfigureAwait(false);
                if (followed is not null)
                {
                    return (null, followed);
                }

                waitingSince = Stopwatch.GetTimestamp();
                continue; // The owner died: try to take over.
            }

            if (Stopwatch.GetElapsedTime(waitingSince) > UnrecordedLockPatience)
            {
                var message = $"{vm.LockFile} is held by another process, but no shutdown of '{vm.Name}' is recorded as running; is another tool holding the lock?";
                observer.OnDiagnostic(new ShutdownDiagnostic(vm.Name, DiagnosticSeverity.Error, ErrorIds.LockBusy, CastraErrorCategory.ResourceBusy, message));
                return (null, new VmShutdownResult(vm.Name, null, false, 0, ErrorIds.LockBusy, message));
            }

            // Rare and short: the owner has just taken the lock and is about to write shutdown.json.
            await Task.Delay(TimeSpan.FromMilliseconds(25), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Null when the owner died before completing (the caller then tries to take over). The owner's status is
    /// re-read as it goes: its deadline grows when it finds sessions to drain or hooks to run, and a follower must
    /// not give up at the first one while the owner is still within its own bound.
    /// </summary>
    private static async Task<VmShutdownResult?> FollowAsync(VmDirectory dir, StatusDocument status, IShutdownObserver observer, CancellationToken cancellationToken)
    {
        var vm = dir.Paths;
        var reader = new JournalReader(dir, status.JournalOffset);
        using var changed = new SemaphoreSlim(0, 1);
        using var watcher = Watch(vm.Directory, changed);

        // The owner's own worst case bounds the follow even if its status file is never updated again.
        var hardLimit = status.StartedAt + ShutdownTimeouts.MaxFollow;
        var deadline = status.Deadline;
        while (true)
        {
            if (ReadComplete(reader, status, observer) is { } done)
            {
                return done;
            }

            var alive = OwnerProcess.IsAlive(status.OwnerPid, status.OwnerStartTime);
            var current = TryReadSame(dir, status);
            if (current is not null)
            {
                deadline = current.Deadline;
                if (!current.IsIncomplete())
                {
                    // Complete on disk: the journal line may still be on its way (or was never written: disk full).
                    return ReadComplete(reader, status, observer) ?? FromStatus(vm, current);
                }
            }

            if (!alive)
            {
                // One last read: the owner may have completed just before exiting.
                return ReadComplete(reader, status, observer);
            }

            var giveUpAt = (deadline < hardLimit ? deadline : hardLimit) + DeadlineGrace;
            if (DateTime.UtcNow > giveUpAt)
            {
                var message = $"the shutdown of '{vm.Name}' run by PID {status.OwnerPid} passed its deadline ({deadline:O}) without completing";
                observer.OnDiagnostic(new ShutdownDiagnostic(vm.Name, DiagnosticSeverity.Error, ErrorIds.FollowTimeout, CastraErrorCategory.OperationTimeout, message));
                return new VmShutdownResult(vm.Name, null, false, 0, ErrorIds.FollowTimeout, message);
            }

            await changed.WaitAsync(RecheckInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// "web: being shut down by PID 4242 on host1 (started 2026-…Z, phase Cooperative; Reason SystemShutdown, cooperative
    /// 60 s, SIGTERM 10 s, SIGKILL 5 s); following it and reporting its events: this call's --force, --method agent are
    /// not used".
    /// </summary>
    internal static string Following(VmPaths vm, StatusDocument owner, ShutdownOptions mine)
    {
        var w = mine.Wording;
        var theirs = $"Reason {owner.Reason}" + (owner.Force ? $", {w.Name(Text.Term.TurnOff)}" : "") +
            (owner.Method is { } m && m != nameof(CooperativeMethod.Auto) ? $", method {m}" : "") +
            (owner.Force ? "" : $", cooperative {EventText.Seconds(owner.CooperativeTimeoutMs)}") +
            $", SIGTERM {EventText.Seconds(owner.TermTimeoutMs)}, SIGKILL {EventText.Seconds(owner.KillTimeoutMs)}";
        var ignored = new List<string>();
        if (mine.Force != owner.Force)
        {
            ignored.Add(mine.Force ? w.Name(Text.Term.TurnOff) : $"asking the guest (the owner used {w.Name(Text.Term.TurnOff)})");
        }

        // Only what this call asked for differently: its defaults (method Auto, reason UserRequested) are not requests.
        if (!mine.Force && mine.Method != CooperativeMethod.Auto && owner.Method is { } ownerMethod && mine.Method.ToString() != ownerMethod)
        {
            ignored.Add($"{w.Name(Text.Term.Method)} {mine.Method}");
        }

        AddIfDifferent(ignored, mine.CooperativeTimeout, owner.CooperativeTimeoutMs, w.Name(Text.Term.CooperativeTimeout));
        AddIfDifferent(ignored, mine.TermTimeout, owner.TermTimeoutMs, w.Name(Text.Term.TermTimeout));
        AddIfDifferent(ignored, mine.KillTimeout, owner.KillTimeoutMs, w.Name(Text.Term.KillTimeout));
        if (mine.Reason != ShutdownReason.UserRequested && ContractNames.Of(mine.Reason) != owner.Reason)
        {
            ignored.Add($"{w.Name(Text.Term.Reason)} {ContractNames.Of(mine.Reason)}");
        }

        // Not recorded by the owner, and never this call's to apply: asked for, they are ignored.
        if (mine.Message is not null)
        {
            ignored.Add(w.Name(Text.Term.Message));
        }

        if (mine.HookErrorAction != Hooks.HookErrorAction.Continue)
        {
            ignored.Add($"{w.Name(Text.Term.HookErrorAction)} {mine.HookErrorAction}");
        }

        if (mine.DrainTimeout != ShutdownOptions.DefaultDrainTimeout)
        {
            ignored.Add($"{w.Name(Text.Term.DrainTimeout)} {EventText.Seconds((long)Math.Round(mine.DrainTimeout.TotalMilliseconds))}");
        }

        if (mine.SaveState)
        {
            ignored.Add($"{w.Name(Text.Term.SaveState)} (no snapshot is written by this call)");
        }

        // The owner's plan decides whether the guest is saved; this call's wish is not recorded, so say it is not used.
        if (mine.Save)
        {
            ignored.Add(w.Name(Text.Term.Save));
        }

        if (mine.Escalation is { } escalation)
        {
            ignored.Add($"{w.Name(Text.Term.Escalation)} {escalation}");
        }

        if (mine.SaveTimeout is { } saveTimeout)
        {
            ignored.Add($"{w.Name(Text.Term.SaveTimeout)} {EventText.Seconds((long)Math.Round(saveTimeout.TotalMilliseconds))}");
        }

        var started = owner.StartedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return $"{vm.Name}: already being shut down by PID {owner.OwnerPid} on {owner.OwnerHost} (started {started}, phase {owner.Phase}; {theirs}); " +
            "following it and reporting its events and outcome" +
            (ignored.Count == 0 ? "" : $": this call's {string.Join(", ", ignored)} {(ignored.Count == 1 ? "is" : "are")} not used");
    }

    private static void AddIfDifferent(List<string> ignored, TimeSpan? mine, long ownerMs, string name)
    {
        if (mine is { } value && (long)Math.Round(value.TotalMilliseconds) != ownerMs)
        {
            ignored.Add($"{name} {EventText.Seconds((long)Math.Round(value.TotalMilliseconds))}");
        }
    }

    /// <summary>Reports the owner's new events; the result once its ShutdownComplete is among them.</summary>
    private static VmShutdownResult? ReadComplete(JournalReader reader, StatusDocument status, IShutdownObserver observer)
    {
        IReadOnlyList<ShutdownEvent> events;
        try
        {
            events = reader.ReadNew();
        }
        catch (IOException)
        {
            return null; // Unreadable or refused now; the status and the owner's liveness still decide.
        }

        foreach (var evt in events)
        {
            if (evt.ShutdownId != status.ShutdownId)
            {
                continue;
            }

            observer.OnEvent(evt);
            if (evt is ShutdownCompleteEvent complete)
            {
                var outcome = Enum.TryParse<ShutdownOutcome>(complete.Outcome, out var parsed) ? parsed : ShutdownOutcome.Failed;
                return new VmShutdownResult(status.VmName, outcome, complete.Changed, complete.TotalMs, null, complete.Detail);
            }
        }

        return null;
    }

    /// <summary>The status file again, if it still describes the followed shutdown.</summary>
    private static StatusDocument? TryReadSame(VmDirectory dir, StatusDocument followed)
    {
        try
        {
            return StatusStore.TryRead(dir) is { } current && current.ShutdownId == followed.ShutdownId ? current : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static VmShutdownResult FromStatus(VmPaths vm, StatusDocument complete)
    {
        var outcome = Enum.TryParse<ShutdownOutcome>(complete.Outcome, out var parsed) ? parsed : ShutdownOutcome.Failed;
        return new VmShutdownResult(vm.Name, outcome, complete.Changed ?? false, complete.TotalMs ?? 0, null, complete.Detail);
    }

    /// <summary>
    /// Change notification for the VM's directory, to follow promptly; null when inotify is not available (the
    /// per-user limit of 128 instances is shared by all of root's processes, and a second --all over a large fleet
    /// reaches it): the follow then relies on the periodic re-check alone.
    /// </summary>
    private static FileSystemWatcher? Watch(string directory, SemaphoreSlim changed)
    {
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(directory) { NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName };
            FileSystemEventHandler onChange = (_, _) => Signal(changed);
            watcher.Changed += onChange;
            watcher.Created += onChange;
            watcher.Renamed += (_, _) => Signal(changed);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            watcher?.Dispose();
            return null;
        }
    }

    private static void Signal(SemaphoreSlim semaphore)
    {
        try
        {
            if (semaphore.CurrentCount == 0)
            {
                semaphore.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
        catch (ObjectDisposedException)
        {
            // The follow ended while the watcher was still delivering.
        }
    }
}

using System.Text.Json;
using Castra.Errors;
using Castra.Serialization;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Keeps <c>shutdown.json</c> in step with the run. Changes apply to the document at once, under a lock (concurrent
/// hooks report progress); writing it happens on the state I/O threads, coalesced: changes made while a write is
/// queued ride along with it, and writes of one VM never overtake each other. A write failure is reported once,
/// never fatal. There is no synchronous save: the hop to the state I/O threads cannot be forgotten.
/// </summary>
internal sealed class StatusTracker
{
    private readonly VmDirectory _vm;
    private readonly IShutdownObserver _observer;
    private readonly object _gate = new();
    private readonly object _writeGate = new();
    private Task _pending = Task.CompletedTask;
    private bool _queued;
    private bool _failed;

    /// <summary>Changes made to the document (its first write counts as one), and how many of them are written.</summary>
    private long _changes = 1;
    private long _written;

    public StatusTracker(VmDirectory vm, StatusDocument document, IShutdownObserver observer)
    {
        _vm = vm;
        Document = document;
        _observer = observer;
    }

    /// <summary>Read it under <see cref="Read{T}"/> or from the run's own flow; change it only through <see cref="Update"/>.</summary>
    public StatusDocument Document { get; }

    public T Read<T>(Func<StatusDocument, T> read)
    {
        lock (_gate)
        {
            return read(Document);
        }
    }

    /// <summary>Changes the document and queues a write; the task completes once a write holding the change is done.</summary>
    public Task Update(Action<StatusDocument> change)
    {
        lock (_gate)
        {
            change(Document);
            _changes++;
            if (!_queued)
            {
                _queued = true;
                _pending = StateIo.Shared.RunAsync(WriteQueued);
            }

            return _pending;
        }
    }

    public Task Phase(ShutdownPhase phase) => Update(d => d.Phase = ContractNames.Of(phase));

    /// <summary>Completes once every change made so far is written (the last queued write).</summary>
    public Task Written
    {
        get
        {
            lock (_gate)
            {
                return _pending;
            }
        }
    }

    /// <summary>Marks the run complete and writes it, here and now: on the state I/O threads only, after its ShutdownComplete is journaled (followers rely on that order).</summary>
    public void CompleteHere(ShutdownOutcome outcome, bool changed, long totalMs, string? detail, DateTime completedAt, string? saveStatePath)
    {
        StateIo.EnsureHere("Writing shutdown.json");
        lock (_gate)
        {
            ApplyCompletion(Document, outcome, changed, totalMs, detail, completedAt, saveStatePath);
            _changes++;
        }

        WriteQueued();
    }

    /// <summary>
    /// What the document will be once <see cref="CompleteHere"/> has run, as a copy: neither the document nor
    /// <c>shutdown.json</c> changes (the -SaveState snapshot is written before ShutdownComplete is emitted).
    /// </summary>
    public StatusDocument CompletedCopy(ShutdownOutcome outcome, bool changed, long totalMs, string? detail, DateTime completedAt, string? saveStatePath)
    {
        StatusDocument copy;
        lock (_gate)
        {
            copy = Copy(Document);
        }

        ApplyCompletion(copy, outcome, changed, totalMs, detail, completedAt, saveStatePath);
        copy.UpdatedAt = completedAt;
        return copy;
    }

    private static void ApplyCompletion(StatusDocument d, ShutdownOutcome outcome, bool changed, long totalMs, string? detail, DateTime completedAt, string? saveStatePath)
    {
        d.Phase = ContractNames.Of(ShutdownPhase.Complete);
        d.Outcome = ContractNames.Of(outcome);
        d.Changed = changed;
        d.TotalMs = totalMs;
        d.Detail = detail;
        d.RunningHooks = null;
        d.HookGroups = null;
        d.CompletedAt = completedAt;
        d.SaveStatePath = saveStatePath;
    }

    /// <summary>
    /// Writes the document as it is now; writes of this VM in order (a later snapshot is never overwritten by an earlier
    /// one). A queued write that finds every change already written (by <see cref="CompleteHere"/>, which does not wait
    /// for the queue) writes nothing: it would rename a copy of the same document for nothing, and could still be under
    /// way when the process exits once every VM is complete, leaving its temporary file behind.
    /// </summary>
    private void WriteQueued()
    {
        lock (_writeGate)
        {
            byte[] content;
            lock (_gate)
            {
                _queued = false;
                if (_written == _changes)
                {
                    return;
                }

                _written = _changes;
                Document.UpdatedAt = DateTime.UtcNow;
                content = StatusStore.Serialize(Document);
            }

            try
            {
                StatusStore.Write(_vm, content);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                if (!_failed)
                {
                    _failed = true;
                    _observer.OnDiagnostic(new ShutdownDiagnostic(_vm.Name, DiagnosticSeverity.Warning, ErrorIds.Unexpected, CastraErrorCategory.WriteError,
                        $"could not write {_vm.Paths.Status} ({ex.Message}); other sessions cannot see this shutdown's progress"));
                }
            }
        }
    }

    private static StatusDocument Copy(StatusDocument d) =>
        JsonSerializer.Deserialize(JsonSerializer.Serialize(d, CastraJsonContext.Default.StatusDocument), CastraJsonContext.Default.StatusDocument)!;
}

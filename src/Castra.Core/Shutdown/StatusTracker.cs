using System.Text.Json;
using Castra.Errors;
using Castra.Serialization;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>Keeps <c>shutdown.json</c> in step with the run; a write failure is reported once, never fatal.</summary>
internal sealed class StatusTracker
{
    private readonly VmDirectory _vm;
    private readonly IShutdownObserver _observer;
    private readonly object _gate = new();
    private bool _failed;

    public StatusTracker(VmDirectory vm, StatusDocument document, IShutdownObserver observer)
    {
        _vm = vm;
        Document = document;
        _observer = observer;
    }

    public StatusDocument Document { get; }

    public void Phase(ShutdownPhase phase) => Update(d => d.Phase = ContractNames.Of(phase));

    /// <summary>Changes the document and saves it; thread-safe (concurrent hooks report progress).</summary>
    public void Update(Action<StatusDocument> change)
    {
        lock (_gate)
        {
            change(Document);
            Save();
        }
    }

    /// <summary>Marks the run complete and saves it: only once its ShutdownComplete is journaled (followers rely on that order).</summary>
    public void Complete(ShutdownOutcome outcome, bool changed, long totalMs, string? detail, DateTime completedAt, string? saveStatePath) =>
        Update(d => ApplyCompletion(d, outcome, changed, totalMs, detail, completedAt, saveStatePath));

    /// <summary>
    /// What the document will be once <see cref="Complete"/> has run, as a copy: neither the document nor
    /// <c>shutdown.json</c> changes (the -SaveState snapshot is written before ShutdownComplete is emitted).
    /// </summary>
    public StatusDocument CompletedCopy(ShutdownOutcome outcome, bool changed, long totalMs, string? detail, DateTime completedAt, string? saveStatePath)
    {
        StatusDocument copy;
        lock (_gate)
        {
            copy = JsonSerializer.Deserialize(JsonSerializer.Serialize(Document, CastraJsonContext.Default.StatusDocument), CastraJsonContext.Default.StatusDocument)!;
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
        d.CompletedAt = completedAt;
        d.SaveStatePath = saveStatePath;
    }

    public void Save()
    {
        lock (_gate)
        {
            SaveLocked();
        }
    }

    private void SaveLocked()
    {
        Document.UpdatedAt = DateTime.UtcNow;
        try
        {
            StatusStore.Write(_vm, Document);
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

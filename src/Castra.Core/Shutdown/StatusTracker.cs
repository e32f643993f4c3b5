using Castra.Errors;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>Keeps <c>shutdown.json</c> in step with the run; a write failure is reported once, never fatal.</summary>
internal sealed class StatusTracker
{
    private readonly VmPaths _vm;
    private readonly IShutdownObserver _observer;
    private bool _failed;

    public StatusTracker(VmPaths vm, StatusDocument document, IShutdownObserver observer)
    {
        _vm = vm;
        Document = document;
        _observer = observer;
    }

    public StatusDocument Document { get; }

    public void Phase(ShutdownPhase phase)
    {
        Document.Phase = ContractNames.Of(phase);
        Save();
    }

    public void Complete(ShutdownOutcome outcome, bool changed, long totalMs, string? detail)
    {
        Document.Phase = ContractNames.Of(ShutdownPhase.Complete);
        Document.Outcome = ContractNames.Of(outcome);
        Document.Changed = changed;
        Document.TotalMs = totalMs;
        Document.Detail = detail;
        Document.CompletedAt = DateTimeOffset.UtcNow;
        Save();
    }

    public void Save()
    {
        Document.UpdatedAt = DateTimeOffset.UtcNow;
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
                    $"could not write {_vm.Status} ({ex.Message}); other sessions cannot see this shutdown's progress"));
            }
        }
    }
}

using Castra.Errors;
using Castra.Events;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Stamps each event of one shutdown (VM, id, sequence from 1, UTC time), appends it to the journal, then hands it
/// to the observer. If the journal cannot be written (disk full), the caller still gets every event and one warning.
/// </summary>
internal sealed class EventRecorder : IDisposable
{
    private readonly VmPaths _vm;
    private readonly string _shutdownId;
    private readonly EventJournal? _journal;
    private readonly IShutdownObserver _observer;
    private readonly object _gate = new();
    private readonly List<ShutdownEvent> _history = [];
    private int _sequence;
    private bool _journalFailed;

    public EventRecorder(VmPaths vm, string shutdownId, EventJournal? journal, IShutdownObserver observer)
    {
        _vm = vm;
        _shutdownId = shutdownId;
        _journal = journal;
        _observer = observer;
    }

    /// <summary>Every event emitted so far, in order (for the -SaveState snapshot and the audit path).</summary>
    public IReadOnlyList<ShutdownEvent> History
    {
        get
        {
            lock (_gate)
            {
                return _history.ToList();
            }
        }
    }

    /// <summary>
    /// Thread-safe: concurrent hooks report from their own tasks. The lock spans numbering, journaling and handing
    /// over, so the sequence, the journal and the observer all see one order.
    /// </summary>
    public T Emit<T>(T evt)
        where T : ShutdownEvent
    {
        lock (_gate)
        {
            return EmitLocked(evt);
        }
    }

    private T EmitLocked<T>(T evt)
        where T : ShutdownEvent
    {
        ShutdownEvent stamped = evt with
        {
            VmName = _vm.Name,
            ShutdownId = _shutdownId,
            Sequence = ++_sequence,
            Timestamp = DateTimeOffset.UtcNow,
        };

        if (_journal is not null && !_journalFailed)
        {
            try
            {
                _journal.Append(stamped);
                if (stamped is ShutdownCompleteEvent)
                {
                    _journal.FlushToDisk();
                }
            }
            catch (IOException ex)
            {
                _journalFailed = true;
                _observer.OnDiagnostic(new ShutdownDiagnostic(_vm.Name, DiagnosticSeverity.Warning, ErrorIds.Unexpected, CastraErrorCategory.WriteError,
                    $"could not append to {_vm.Journal} ({ex.Message}); events are still reported here but the journal is incomplete"));
            }
        }

        _history.Add(stamped);
        _observer.OnEvent(stamped);
        return (T)stamped;
    }

    public void Dispose() => _journal?.Dispose();
}

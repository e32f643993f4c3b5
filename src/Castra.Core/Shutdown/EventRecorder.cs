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
            return PublishLocked(StampLocked(evt));
        }
    }

    /// <summary>
    /// Stamps <paramref name="evt"/> as the next event (VM, id, sequence, time) without emitting it, so what is
    /// written before it goes out (the -SaveState snapshot) can hold the very event the caller then passes to
    /// <see cref="EmitStamped{T}"/>. Nothing else may be emitted in between.
    /// </summary>
    public T Stamp<T>(T evt)
        where T : ShutdownEvent
    {
        lock (_gate)
        {
            return StampLocked(evt);
        }
    }

    /// <summary>Emits an event from <see cref="Stamp{T}"/> as it is (its fields may have been changed since, not its stamp).</summary>
    /// <exception cref="InvalidOperationException">It is not the next event of this run (another was emitted since it was stamped).</exception>
    public T EmitStamped<T>(T stamped)
        where T : ShutdownEvent
    {
        ArgumentNullException.ThrowIfNull(stamped);
        lock (_gate)
        {
            if (stamped.Sequence != _sequence + 1 || stamped.ShutdownId != _shutdownId || stamped.VmName != _vm.Name)
            {
                throw new InvalidOperationException(
                    $"Event {stamped.Type} #{stamped.Sequence} of {stamped.ShutdownId} is not the next event of {_shutdownId} (#{_sequence + 1}): another event was emitted since it was stamped.");
            }

            return PublishLocked(stamped);
        }
    }

    private T StampLocked<T>(T evt)
        where T : ShutdownEvent
    {
        ShutdownEvent stamped = evt with
        {
            VmName = _vm.Name,
            StateRoot = _vm.Root.Path,
            ShutdownId = _shutdownId,
            Sequence = _sequence + 1,
            Timestamp = DateTime.UtcNow,
        };
        return (T)stamped;
    }

    private T PublishLocked<T>(T stamped)
        where T : ShutdownEvent
    {
        _sequence = stamped.Sequence;
        if (_journal is not null && !_journalFailed)
        {
            try
            {
                // One write(2) of a whole line, before the event is reported: no reported event is missing after a crash.
                _journal.Append(stamped);
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
        return stamped;
    }

    public void Dispose() => _journal?.Dispose();
}

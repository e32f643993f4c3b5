namespace Castra.Qmp;

/// <summary>
/// The QMP events a client keeps: the last SHUTDOWN (the engine reads its "guest" flag to tell a guest-initiated
/// power-off) and the last <see cref="Capacity"/> events of any kind, for diagnostics. Everything else is dropped on
/// arrival: the old unbounded list grew to 3.8 GB in 20 s under an event flood. Thread-safe.
/// </summary>
internal sealed class QmpEventLog
{
    public const int Capacity = 16;

    private readonly Queue<QmpEvent> _recent = new(Capacity);
    private readonly List<(string Name, TaskCompletionSource Waiter)> _waiters = [];
    private QmpEvent? _lastShutdown;

    public IReadOnlyList<QmpEvent> Recent
    {
        get
        {
            lock (_recent)
            {
                return [.. _recent];
            }
        }
    }

    public QmpEvent? LastShutdown
    {
        get
        {
            lock (_recent)
            {
                return _lastShutdown;
            }
        }
    }

    /// <summary>Completes at the next event named <paramref name="name"/>, or when <paramref name="closed"/> does.</summary>
    public Task Next(string name, Task closed)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_recent)
        {
            _waiters.Add((name, waiter));
        }

        return Task.WhenAny(waiter.Task, closed);
    }

    public void Add(QmpEvent evt)
    {
        lock (_recent)
        {
            // Waiters are few (one per wait for a MIGRATION change) and each is released by its first match.
            _waiters.RemoveAll(w => w.Name == evt.Name && w.Waiter.TrySetResult());

            if (_recent.Count == Capacity)
            {
                _recent.Dequeue();
            }

            _recent.Enqueue(evt);
            if (evt.Name == "SHUTDOWN")
            {
                _lastShutdown = evt;
            }
        }
    }
}

using System.Collections.Concurrent;
using Castra.Events;
using Castra.Shutdown;

namespace Castra.Bench;

/// <summary>Keeps every event and diagnostic the engine reports; queues and returns, as IShutdownObserver requires.</summary>
internal sealed class FleetObserver : IShutdownObserver
{
    private readonly ConcurrentQueue<ShutdownEvent> _events = new();
    private readonly ConcurrentQueue<ShutdownDiagnostic> _diagnostics = new();

    public IReadOnlyList<ShutdownDiagnostic> Diagnostics => [.. _diagnostics];

    public void OnEvent(ShutdownEvent evt) => _events.Enqueue(evt);

    /// <summary>Warnings and errors only: traces (every VM says which process it proved) are not a problem to count.</summary>
    public void OnDiagnostic(ShutdownDiagnostic diagnostic)
    {
        if (diagnostic.Severity != DiagnosticSeverity.Trace)
        {
            _diagnostics.Enqueue(diagnostic);
        }
    }

    /// <summary>Each VM's events in its own order.</summary>
    public IReadOnlyDictionary<string, List<ShutdownEvent>> ByVm() =>
        _events.GroupBy(e => e.VmName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(e => e.Sequence).ToList(), StringComparer.Ordinal);
}

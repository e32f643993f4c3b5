using Castra.Events;
using Castra.Shutdown;

namespace Castra.Tests.Support;

/// <summary>Collects what the engine reports, in arrival order, thread-safely.</summary>
public sealed class RecordingObserver : IShutdownObserver
{
    private readonly List<ShutdownEvent> _events = [];
    private readonly List<ShutdownDiagnostic> _diagnostics = [];
    private readonly List<ShutdownDiagnostic> _traces = [];
    private readonly List<Action<ShutdownEvent>> _onEvent = [];

    public IReadOnlyList<ShutdownEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<ShutdownDiagnostic> Diagnostics
    {
        get
        {
            lock (_diagnostics)
            {
                return [.. _diagnostics];
            }
        }
    }

    public IReadOnlyList<ShutdownEvent> For(string vm) => Events.Where(e => e.VmName == vm).ToList();

    public IReadOnlyList<string> TypesFor(string vm) => For(vm).Select(e => e.Type).ToList();

    /// <summary>Runs <paramref name="action"/> on every later event (on the engine's thread).</summary>
    public void WhenEvent(Action<ShutdownEvent> action)
    {
        lock (_events)
        {
            _onEvent.Add(action);
        }
    }

    public void OnEvent(ShutdownEvent evt)
    {
        Action<ShutdownEvent>[] actions;
        lock (_events)
        {
            _events.Add(evt);
            actions = [.. _onEvent];
        }

        foreach (var action in actions)
        {
            action(evt);
        }
    }

    /// <summary>Warnings and errors; traces (how a run decided, for -Verbose) are kept apart in <see cref="Traces"/>.</summary>
    public void OnDiagnostic(ShutdownDiagnostic diagnostic)
    {
        var list = diagnostic.Severity == DiagnosticSeverity.Trace ? _traces : _diagnostics;
        lock (list)
        {
            list.Add(diagnostic);
        }
    }

    public IReadOnlyList<ShutdownDiagnostic> Traces
    {
        get
        {
            lock (_traces)
            {
                return [.. _traces];
            }
        }
    }
}

using System.Management.Automation;
using Castra.Events;
using Castra.PowerShell.Presentation;
using Castra.Shutdown;

namespace Castra.PowerShell.Output;

/// <summary>
/// Renders what the engine reports into PowerShell's streams: each event as an output object (once: -Verbose adds how
/// the run decided, never the same event again), warnings with the remediation hint, non-terminating errors per VM,
/// and per-VM progress with a countdown.
/// </summary>
internal sealed class ShutdownReporter
{
    private readonly IRecordSink _sink;
    private readonly bool _turnedOff;
    private readonly ShutdownProgress _progress = new();
    private readonly Func<string, object?>? _passThru;
    private readonly string _passThruAfter;

    /// <param name="turnedOff">-TurnOff: the guest was never asked, so "had to be forced" is no news.</param>
    /// <param name="passThru">-PassThru: the VM's object, written right after its ShutdownComplete event (null: nothing).</param>
    /// <param name="passThruAfter">The event after which the VM's object is written (Restart-CastraVm: Started).</param>
    public ShutdownReporter(IRecordSink sink, bool turnedOff = false, Func<string, object?>? passThru = null, string passThruAfter = EventTypes.ShutdownComplete)
    {
        _passThruAfter = passThruAfter;
        _sink = sink;
        _turnedOff = turnedOff;
        _passThru = passThru;
    }

    public void Report(ShutdownMessage message)
    {
        if (message.Event is { } evt)
        {
            _sink.Output(evt);
            if (EventPresentation.Warning(evt, _turnedOff) is { } warning)
            {
                _sink.Warning(warning);
            }

            _sink.Progress(ToRecord(_progress.Observe(evt)));
            if (evt.Type == _passThruAfter && _passThru?.Invoke(evt.VmName) is { } vm)
            {
                _sink.Output(vm);
            }
        }
        else if (message.Diagnostic is { } diagnostic)
        {
            if (diagnostic.Severity == DiagnosticSeverity.Error)
            {
                _sink.Error(ErrorRecords.From(diagnostic));
            }
            else if (diagnostic.Severity == DiagnosticSeverity.Trace)
            {
                _sink.Verbose(EventPresentation.VerboseLine(diagnostic));
                if (diagnostic.ErrorId == Errors.ErrorIds.WaitingForGroup)
                {
                    // A VM of a later group has no events yet: its progress says what it waits for, not nothing.
                    _sink.Progress(ToRecord(_progress.Waiting(diagnostic.VmName, diagnostic.Message)));
                }
            }
            else
            {
                _sink.Warning($"{diagnostic.Message} [{diagnostic.ErrorId}]");
            }
        }
    }

    /// <summary>Re-sends the progress of VMs still waiting, so the countdown moves between events.</summary>
    public void RefreshProgress()
    {
        foreach (var snapshot in _progress.Active(DateTime.UtcNow))
        {
            _sink.Progress(ToRecord(snapshot));
        }
    }

    private static ProgressRecord ToRecord(ProgressSnapshot snapshot) => new(snapshot.ActivityId, $"Stopping VM {snapshot.VmName}", snapshot.Stage)
    {
        SecondsRemaining = snapshot.SecondsRemaining,
        RecordType = snapshot.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
    };
}

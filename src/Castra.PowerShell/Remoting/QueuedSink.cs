using System.Collections.Concurrent;
using System.Management.Automation;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// Host tasks write here from any thread; <see cref="Drain"/> hands every record, in arrival order, to the cmdlet's own
/// sink on the pipeline thread (the only thread that may write to PowerShell's streams). Not disposed: host tasks that
/// a stop left behind may still add to it after the cmdlet returned, which must stay harmless.
/// </summary>
internal sealed class QueuedSink : IRecordSink
{
    private readonly BlockingCollection<Action<IRecordSink>> _queue = [];

    public void Output(object value) => Add(s => s.Output(value));

    public void Verbose(string message) => Add(s => s.Verbose(message));

    public void Warning(string message) => Add(s => s.Warning(message));

    public void Error(ErrorRecord record) => Add(s => s.Error(record));

    public void Progress(ProgressRecord record) => Add(s => s.Progress(record));

    /// <summary>No more records will come (every host ended).</summary>
    public void Complete()
    {
        try
        {
            _queue.CompleteAdding();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>On the pipeline thread: writes records until <see cref="Complete"/>, or until the call is stopped.</summary>
    public void Drain(IRecordSink target, CancellationToken cancellation)
    {
        try
        {
            foreach (var write in _queue.GetConsumingEnumerable(cancellation))
            {
                write(target);
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: PowerShell is unwinding the pipeline; the hosts are being stopped.
        }
    }

    private void Add(Action<IRecordSink> write)
    {
        try
        {
            _queue.Add(write);
        }
        catch (InvalidOperationException)
        {
            // Completed after a stop: nobody reads any more.
        }
    }
}

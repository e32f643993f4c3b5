using System.Management.Automation;
using Castra.Events;
using Castra.PowerShell.Output;
using Castra.Shutdown;

namespace Castra.PowerShell.Jobs;

/// <summary>One VM's part of a <see cref="CastraShutdownJob"/>: its events, in order, its errors, its own end and its own Stop-Job.</summary>
public sealed class CastraVmShutdownJob : Job, IShutdownObserver
{
    private readonly object _gate = new();
    private readonly ShutdownReporter _reporter;
    private readonly CancellationTokenSource _cancellation;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<string, object?>? _passThru;
    private Task<VmShutdownResult>? _run;

    /// <param name="passThru">-PassThru: the VM's object, added to the output once its run has ended (off the engine's thread).</param>
    internal CastraVmShutdownJob(string command, string vmName, bool turnedOff, CancellationToken parent, Func<string, object?>? passThru = null)
        : base(command, vmName)
    {
        _passThru = passThru;
        VmName = vmName;
        PSJobTypeName = CastraShutdownJob.JobTypeName;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(parent);
        _reporter = new ShutdownReporter(new JobSink(this), turnedOff);
        SetJobState(JobState.Running);
    }

    /// <summary>The VM this child job stops.</summary>
    public string VmName { get; }

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Progress.Count > 0 || Debug.Count > 0 || Information.Count > 0;

    public override string Location => Environment.MachineName;

    internal CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>Completes once this child has reached its final state.</summary>
    internal Task Ended => _finished.Task;

    /// <summary>Stop-Job on this child: this VM only.</summary>
    public override void StopJob()
    {
        _cancellation.Cancel();
        if (!_finished.Task.IsCompleted)
        {
            _finished.Task.Wait(CastraShutdownJob.StopWait);
        }
    }

    void IShutdownObserver.OnEvent(ShutdownEvent evt) => Report(new ShutdownMessage(evt, null));

    void IShutdownObserver.OnDiagnostic(ShutdownDiagnostic diagnostic) => Report(new ShutdownMessage(null, diagnostic));

    internal void Track(Task<VmShutdownResult> run)
    {
        _run = run;
        _ = run.ContinueWith(t => End(t.IsCompletedSuccessfully ? t.Result : null), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    internal void Fail(ErrorRecord error)
    {
        Error.Add(error);
        End(null);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_run is { IsCompleted: false })
            {
                _cancellation.Cancel();
                _finished.Task.Wait(CastraShutdownJob.StopWait);
            }

            _cancellation.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Report(ShutdownMessage message)
    {
        // One VM's steps arrive in order from that VM's flow; the lock keeps the progress state consistent.
        lock (_gate)
        {
            _reporter.Report(message);
        }
    }

    private void End(VmShutdownResult? result)
    {
        if (result?.Outcome is not null && _passThru?.Invoke(VmName) is { } vm)
        {
            Output.Add(PSObject.AsPSObject(vm));
        }

        SetJobState(VmJobState.For(result?.Outcome));
        _finished.TrySetResult();
    }
}

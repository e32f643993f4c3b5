using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Jobs;

/// <summary>One host's part of a <see cref="CastraRemoteJob"/>: that host's records in order, its own end and its own Stop-Job.</summary>
public sealed class CastraRemoteHostJob : Job
{
    private readonly CancellationTokenSource _cancellation;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal CastraRemoteHostJob(string command, PSSession session, CancellationToken parent)
        : base(command, session.ComputerName)
    {
        Session = session;
        PSJobTypeName = CastraRemoteJob.JobTypeName;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(parent);
        Sink = new JobSink(this);
        SetJobState(JobState.Running);
    }

    /// <summary>The session this child's host is reached through.</summary>
    public PSSession Session { get; }

    /// <summary>The host, as its session names it (the PSComputerName of its records).</summary>
    public string ComputerName => Session.ComputerName;

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Progress.Count > 0 || Debug.Count > 0 || Information.Count > 0;

    public override string Location => Session.ComputerName;

    internal IRecordSink Sink { get; }

    internal CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>Completes once this child has reached its final state.</summary>
    internal Task Ended => _finished.Task;

    /// <summary>Stop-Job on this child: this host's part only (its running VMs are cancelled there).</summary>
    public override void StopJob()
    {
        _cancellation.Cancel();
        if (!_finished.Task.IsCompleted)
        {
            _finished.Task.Wait(CastraShutdownJob.StopWait);
        }
    }

    internal void Track(Task<bool> run) =>
        _ = run.ContinueWith(t =>
        {
            SetJobState(_cancellation.IsCancellationRequested ? JobState.Stopped
                : t.IsCompletedSuccessfully && t.Result ? JobState.Completed
                : JobState.Failed);
            _finished.TrySetResult();
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_finished.Task.IsCompleted)
            {
                _cancellation.Cancel();
                _finished.Task.Wait(CastraShutdownJob.StopWait);
            }

            _cancellation.Dispose();
        }

        base.Dispose(disposing);
    }
}

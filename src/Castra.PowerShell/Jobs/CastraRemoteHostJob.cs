using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Jobs;

/// <summary>
/// One host's part of a <see cref="CastraRemoteJob"/>: its own end and its own Stop-Job, and one child job per VM of
/// that host's call (<see cref="CastraRemoteVmJob"/>, known up front from the module check), which get that VM's events
/// and errors; this job keeps the rest of the host's records (warnings, verbose lines, progress, the host's own errors).
/// </summary>
public sealed class CastraRemoteHostJob : Job
{
    private readonly CancellationTokenSource _cancellation;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly RemoteVmRouter _router;

    /// <param name="vmNames">The VMs the host's call works on (the module check's answer); one child job each.</param>
    /// <param name="passThru">-PassThru: a VM's job ends at its object, which follows its ShutdownComplete.</param>
    internal CastraRemoteHostJob(string command, PSSession session, IReadOnlyList<string> vmNames, bool passThru, CancellationToken parent)
        : base(command, session.ComputerName)
    {
        Session = session;
        PSJobTypeName = CastraRemoteJob.JobTypeName;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(parent);
        var vms = new Dictionary<string, CastraRemoteVmJob>(StringComparer.Ordinal);
        foreach (var name in vmNames.Distinct(StringComparer.Ordinal))
        {
            var vm = new CastraRemoteVmJob(command, name, this);
            vms[name] = vm;
            ChildJobs.Add(vm);
        }

        _router = new RemoteVmRouter(new JobSink(this), vms, passThru);
        SetJobState(JobState.Running);
    }

    /// <summary>The session this child's host is reached through.</summary>
    public PSSession Session { get; }

    /// <summary>The host, as its session names it (the PSComputerName of its records).</summary>
    public string ComputerName => Session.ComputerName;

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Progress.Count > 0 || Debug.Count > 0 || Information.Count > 0
        || ChildJobs.Any(c => c.HasMoreData);

    public override string Location => Session.ComputerName;

    internal IRecordSink Sink => _router;

    internal CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>Completes once this child has reached its final state.</summary>
    internal Task Ended => _finished.Task;

    /// <summary>Stop-Job on this child (or on one of its VM jobs): this host's part only (its running VMs are cancelled there).</summary>
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
            // The VM jobs end first: when this job is done, so is every one of its children.
            _router.Finish(stopped: _cancellation.IsCancellationRequested);
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

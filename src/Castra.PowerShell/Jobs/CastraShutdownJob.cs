using System.Management.Automation;
using Castra.Shutdown;

namespace Castra.PowerShell.Jobs;

/// <summary>
/// The job Stop-CastraVm -AsJob returns: one child job per VM, each a real job of its own. A child completes (or
/// fails) when its VM's sequence ends, so Wait-Job -Any returns at the first VM done; Stop-Job on a child cancels that
/// VM only; the parent completes when every child has, and Stop-Job on it cancels them all. The VMs still share one
/// throttle and one bound on start-ups (<see cref="ShutdownEngine.StartEach"/>).
/// </summary>
public sealed class CastraShutdownJob : Job
{
    public const string JobTypeName = "CastraShutdownJob";
    internal static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);

    private readonly List<CastraVmShutdownJob> _children = [];
    private readonly CancellationTokenSource _cancellation = new();
    private Task? _all;

    /// <param name="turnedOff">-TurnOff: the guests are not asked, so "had to be forced" is no news (as without -AsJob).</param>
    /// <param name="passThru">-PassThru: each VM's object after its run (see <see cref="CastraVmShutdownJob"/>).</param>
    internal CastraShutdownJob(string command, IReadOnlyList<string> vmNames, bool turnedOff = false, Func<string, object?>? passThru = null)
        : base(command, null)
    {
        PSJobTypeName = JobTypeName;

        // One child per VM: a name given twice would leave a child no run ever ends.
        foreach (var vm in vmNames.Distinct(StringComparer.Ordinal))
        {
            var child = new CastraVmShutdownJob(command, vm, turnedOff, _cancellation.Token, passThru);
            _children.Add(child);
            ChildJobs.Add(child);
        }
    }

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || ChildJobs.Any(c => c.HasMoreData);

    public override string Location => Environment.MachineName;

    /// <summary>A job that had nothing to run: its errors (say, no VM matched) are in it, and it has failed.</summary>
    internal static CastraShutdownJob Failed(string command, IEnumerable<ErrorRecord> errors, IEnumerable<string> warnings)
    {
        var job = new CastraShutdownJob(command, []);
        foreach (var warning in warnings)
        {
            job.Warning.Add(new WarningRecord(warning));
        }

        foreach (var error in errors)
        {
            job.Error.Add(error);
        }

        job.SetJobState(job.Error.Count > 0 ? JobState.Failed : JobState.Completed);
        return job;
    }

    /// <summary>Starts every VM's shutdown (ShouldProcess was asked before the job was created).</summary>
    internal void Start(ShutdownEngine engine, ShutdownOptions options)
    {
        SetJobState(JobState.Running);
        IReadOnlyList<Task<VmShutdownResult>> runs;
        try
        {
            runs = engine.StartEach([.. _children.Select(c => new VmRun(c.VmName, c, c.CancellationToken))], options);
        }
        catch (Errors.CastraException ex)
        {
            foreach (var child in _children)
            {
                child.Fail(ErrorRecords.From(ex));
            }

            SetJobState(JobState.Failed);
            return;
        }

        // StartEach returns one task per distinct name, in the order given: the children's order.
        for (var i = 0; i < runs.Count; i++)
        {
            _children[i].Track(runs[i]);
        }

        // Never faults: every child reaches a final state whatever happens, so Wait-Job and Receive-Job -Wait return.
        _all = Task.WhenAll(_children.Select(c => c.Ended)).ContinueWith(
            _ => SetJobState(Summarize()), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Stop-Job on the whole job: every VM is cancelled (no further signal; each records Cancelled).</summary>
    public override void StopJob()
    {
        _cancellation.Cancel();
        if (!IsFinishedState(JobStateInfo.State))
        {
            _all?.Wait(StopWait);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Removing a finished job (Receive-Job -AutoRemoveJob, from inside its own state change) must not wait on
            // the very completion that is raising the event; an unfinished one is cancelled and given time to end.
            if (!IsFinishedState(JobStateInfo.State))
            {
                _cancellation.Cancel();
                _all?.Wait(StopWait);
            }

            _cancellation.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Completed when every VM stopped; Failed when any did not; else Stopped (some were cancelled).</summary>
    private JobState Summarize()
    {
        var states = _children.Select(c => c.JobStateInfo.State).ToList();
        return states.All(s => s == JobState.Completed) ? JobState.Completed
            : states.Any(s => s == JobState.Failed) ? JobState.Failed
            : JobState.Stopped;
    }

    private static bool IsFinishedState(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Stopped;
}

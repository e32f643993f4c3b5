using System.Management.Automation;
using Castra.Events;
using Castra.Shutdown;

namespace Castra.PowerShell.Jobs;

/// <summary>
/// The job Stop-CastraVm -AsJob returns: one child per VM (so results tie back to a VM), output = the same event
/// objects in the same per-VM order. Receive-Job works during and after; Stop-Job cancels the engine (waiting
/// stops, no further signal is sent, each VM records Cancelled) and returns once it has wound down.
/// </summary>
public sealed class CastraShutdownJob : Job, IShutdownObserver
{
    public const string JobTypeName = "CastraShutdownJob";
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, CastraVmShutdownJob> _children = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _cancellation = new();
    private Task? _work;

    internal CastraShutdownJob(string command, IReadOnlyList<string> vmNames)
        : base(command, null)
    {
        PSJobTypeName = JobTypeName;
        foreach (var vm in vmNames)
        {
            var child = new CastraVmShutdownJob(this, command, vm);
            _children[vm] = child;
            ChildJobs.Add(child);
        }
    }

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData => ChildJobs.Any(c => c.HasMoreData);

    public override string Location => Environment.MachineName;

    /// <summary>Starts the engine in the background (ShouldProcess was asked before the job was created).</summary>
    internal void Start(ShutdownEngine engine, ShutdownOptions options)
    {
        SetJobState(JobState.Running);
        foreach (var child in _children.Values)
        {
            child.Begin();
        }

        // This task never faults: whatever happens, every child and the parent reach a final state,
        // so Wait-Job and Receive-Job -Wait always return.
        _work = Task.Run(async () =>
        {
            IReadOnlyList<VmShutdownResult>? results = null;
            try
            {
                results = await engine.StopAsync(_children.Keys, options, this, _cancellation.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                var record = ex is Errors.CastraException castra
                    ? ErrorRecords.From(castra)
                    : ErrorRecords.Create(ex, Errors.ErrorIds.Unexpected, Errors.CastraErrorCategory.NotSpecified, null);
                foreach (var child in _children.Values)
                {
                    child.Error.Add(record);
                }
            }
            finally
            {
                Finish(results);
            }
        });
    }

    /// <summary>Stop-Job on this job or on any of its children: the VMs share one engine call, so all are cancelled.</summary>
    public override void StopJob()
    {
        _cancellation.Cancel();
        _work?.Wait(StopWait);
    }

    void IShutdownObserver.OnEvent(ShutdownEvent evt) => Route(evt.VmName, new ShutdownMessage(evt, null));

    void IShutdownObserver.OnDiagnostic(ShutdownDiagnostic diagnostic) => Route(diagnostic.VmName, new ShutdownMessage(null, diagnostic));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cancellation.Cancel();
            _work?.Wait(StopWait);
            _cancellation.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Route(string vm, ShutdownMessage message)
    {
        if (_children.TryGetValue(vm, out var child))
        {
            child.Report(message);
        }
    }

    private void Finish(IReadOnlyList<VmShutdownResult>? results)
    {
        var cancelled = _cancellation.IsCancellationRequested;
        var anyFailed = false;
        foreach (var child in _children.Values)
        {
            var result = results?.FirstOrDefault(r => r.VmName == child.VmName);
            var state = result switch
            {
                null => JobState.Failed,
                { Outcome: ShutdownOutcome.Cancelled } => JobState.Stopped,
                { Stopped: true } => JobState.Completed,
                _ => JobState.Failed,
            };
            anyFailed |= state == JobState.Failed;
            child.Finish(state);
        }

        SetJobState(cancelled ? JobState.Stopped : anyFailed ? JobState.Failed : JobState.Completed);
    }
}

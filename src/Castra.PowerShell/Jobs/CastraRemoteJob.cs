using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.PowerShell.Remoting;

namespace Castra.PowerShell.Jobs;

/// <summary>
/// The job a cmdlet's -Session -AsJob returns: one child job per host (<see cref="CastraRemoteHostJob"/>, its Location
/// the host), each ending when its host's part ends, so Wait-Job -Any returns at the first host done and Stop-Job on a
/// child stops that host's part only. Each host's job has one child job per VM of that host (named after the VM),
/// ending when that VM's ShutdownComplete arrives. The parent completes when every child has: Completed when every host ran
/// without an error, Failed when any had one, Stopped when stopped.
/// </summary>
public sealed class CastraRemoteJob : Job
{
    public const string JobTypeName = "CastraRemoteJob";

    private readonly List<CastraRemoteHostJob> _children = [];
    private readonly CancellationTokenSource _cancellation = new();
    private Task? _all;

    private readonly Dictionary<Guid, HostCheck> _checks = [];

    /// <param name="checks">Per session, its module check, made with the VM names (its VM jobs exist from the start).</param>
    /// <param name="passThru">-PassThru: each VM's object goes to its VM's job.</param>
    internal CastraRemoteJob(string command, IReadOnlyList<PSSession> sessions, IReadOnlyList<HostCheck> checks, bool passThru)
        : base(command, null)
    {
        PSJobTypeName = JobTypeName;
        for (var i = 0; i < sessions.Count; i++)
        {
            _checks[sessions[i].InstanceId] = checks[i];
            var child = new CastraRemoteHostJob(command, sessions[i], checks[i].Vms, passThru, _cancellation.Token);
            _children.Add(child);
            ChildJobs.Add(child);
        }
    }

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || ChildJobs.Any(c => c.HasMoreData);

    public override string Location => string.Join(", ", _children.Select(c => c.Location));

    /// <summary>Starts every host's part (ShouldProcess was asked before the job was created).</summary>
    internal void Start(Version version, Func<PSSession, Output.IRecordSink, RemoteCall?> callFor, TimeSpan? limit = null)
    {
        SetJobState(JobState.Running);
        var sessions = _children.Select(c => c.Session).ToList();
        var runs = RemoteFanOut.StartEach(sessions, version, callFor, s => Child(s).Sink, s => Child(s).CancellationToken,
            s => _checks[s.InstanceId], limit);

        // Each child ends with its host; the parent with the last of them. Never faults (see RemoteFanOut.StartEach).
        for (var i = 0; i < _children.Count; i++)
        {
            _children[i].Track(runs[i]);
        }

        _all = Task.WhenAll(_children.Select(c => c.Ended)).ContinueWith(
            _ => SetJobState(Summarize()), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    public override void StopJob()
    {
        _cancellation.Cancel();
        if (!IsFinished(JobStateInfo.State))
        {
            _all?.Wait(CastraShutdownJob.StopWait);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!IsFinished(JobStateInfo.State))
            {
                _cancellation.Cancel();
                _all?.Wait(CastraShutdownJob.StopWait);
            }

            _cancellation.Dispose();
        }

        base.Dispose(disposing);
    }

    private CastraRemoteHostJob Child(PSSession session) => _children.First(c => c.Session.InstanceId == session.InstanceId);

    private JobState Summarize()
    {
        var states = _children.Select(c => c.JobStateInfo.State).ToList();
        return states.All(s => s == JobState.Completed) ? JobState.Completed
            : states.Any(s => s == JobState.Failed) ? JobState.Failed
            : JobState.Stopped;
    }

    private static bool IsFinished(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Stopped;
}

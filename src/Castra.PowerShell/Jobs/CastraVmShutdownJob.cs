using System.Management.Automation;
using Castra.PowerShell.Output;
using Castra.Shutdown;

namespace Castra.PowerShell.Jobs;

/// <summary>One VM's part of a <see cref="CastraShutdownJob"/>: its events, in order, and its errors.</summary>
public sealed class CastraVmShutdownJob : Job
{
    private readonly object _gate = new();
    private readonly ShutdownReporter _reporter;
    private readonly CastraShutdownJob _parent;

    internal CastraVmShutdownJob(CastraShutdownJob parent, string command, string vmName)
        : base(command, vmName)
    {
        _parent = parent;
        VmName = vmName;
        PSJobTypeName = CastraShutdownJob.JobTypeName;
        _reporter = new ShutdownReporter(new JobSink(this));
    }

    /// <summary>The VM this child job stops.</summary>
    public string VmName { get; }

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Progress.Count > 0 || Debug.Count > 0 || Information.Count > 0;

    public override string Location => Environment.MachineName;

    public override void StopJob() => _parent.StopJob();

    internal void Report(ShutdownMessage message)
    {
        // The engine reports one VM's steps in order from that VM's flow; the lock keeps progress state consistent.
        lock (_gate)
        {
            _reporter.Report(message);
        }
    }

    internal void Finish(JobState state) => SetJobState(state);

    internal void Begin() => SetJobState(JobState.Running);
}

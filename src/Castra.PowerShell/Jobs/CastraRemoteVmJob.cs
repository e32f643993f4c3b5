using System.Management.Automation;
using Castra.Shutdown;

namespace Castra.PowerShell.Jobs;

/// <summary>
/// One VM's part of a <see cref="CastraRemoteHostJob"/>: named after the VM, its Location the host. It holds that VM's
/// events (and its -PassThru object) and errors as the host wrote them, and ends when the VM's ShutdownComplete has
/// arrived, in the state its outcome maps to (<see cref="VmJobState"/>, as a local per-VM job). A PSSession runs one
/// pipeline at a time, so one VM cannot be stopped alone there: Stop-Job on this job stops its host's whole part, and
/// says so in a warning.
/// </summary>
public sealed class CastraRemoteVmJob : Job
{
    private readonly CastraRemoteHostJob _host;
    private int _ended;

    internal CastraRemoteVmJob(string command, string vmName, CastraRemoteHostJob host)
        : base(command, vmName)
    {
        _host = host;
        VmName = vmName;
        PSJobTypeName = CastraRemoteJob.JobTypeName;
        SetJobState(JobState.Running);
    }

    /// <summary>The VM this child job reports on.</summary>
    public string VmName { get; }

    /// <summary>The host the VM is on, as its session names it.</summary>
    public string ComputerName => _host.ComputerName;

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Progress.Count > 0 || Debug.Count > 0 || Information.Count > 0;

    public override string Location => _host.ComputerName;

    internal bool IsEnded => Volatile.Read(ref _ended) != 0;

    /// <summary>
    /// Stop-Job on one VM's job: its host runs one pipeline for all of its VMs and cannot cancel one of them, so the
    /// host's whole part is stopped (each VM there ends Cancelled), never silently more than asked without a word.
    /// </summary>
    public override void StopJob()
    {
        if (IsEnded)
        {
            return;
        }

        var message = $"Stop-Job on VM '{VmName}' stops every VM of this call on {ComputerName}: a session runs one pipeline at a time, " +
            "so one VM cannot be cancelled alone there.";
        Warning.Add(new WarningRecord(message));
        _host.Warning.Add(new WarningRecord(message));
        _host.StopJob();
    }

    /// <summary>The VM's run ended with this outcome (null: none known); the first end wins.</summary>
    internal void End(ShutdownOutcome? outcome)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            SetJobState(VmJobState.For(outcome));
        }
    }
}

using System.Globalization;
using System.Management.Automation;
using Castra.Events;
using Castra.PowerShell.Output;
using Castra.Shutdown;

namespace Castra.PowerShell.Jobs;

/// <summary>
/// A host's records as they arrive, each to the job it belongs to: a VM's events (its VmName), its -PassThru object
/// (written right after its ShutdownComplete) and its errors (TargetObject = the VM) to that VM's job; the rest
/// (warnings, verbose lines, progress, the host's own errors, a VM no child was made for) to the host's job. A VM's
/// job ends at its ShutdownComplete, or with -PassThru at its object (or at the next record, when none could be
/// described). Records of one host arrive one at a time, in order; the lock only guards against the host's end.
/// </summary>
internal sealed class RemoteVmRouter(IRecordSink host, IReadOnlyDictionary<string, CastraRemoteVmJob> vms, bool passThru) : IRecordSink
{
    private const string EventNamespace = "Castra.Events.";
    private const string VmInfoType = "Castra.State.VmInfo";

    private readonly object _gate = new();
    private readonly List<(CastraRemoteVmJob Job, ShutdownOutcome? Outcome)> _awaitingObject = [];

    public void Output(object value)
    {
        var item = PSObject.AsPSObject(value);
        lock (_gate)
        {
            if (IsOf(item, EventNamespace) && Text(item, "VmName") is { } vmName && vms.TryGetValue(vmName, out var vm))
            {
                EndAwaiting();
                vm.Output.Add(item);
                if (Text(item, "Type") == EventTypes.ShutdownComplete)
                {
                    var outcome = Enum.TryParse<ShutdownOutcome>(Text(item, "Outcome"), ignoreCase: false, out var parsed) ? parsed : (ShutdownOutcome?)null;
                    if (passThru)
                    {
                        _awaitingObject.Add((vm, outcome));
                    }
                    else
                    {
                        vm.End(outcome);
                    }
                }

                return;
            }

            if (IsOf(item, VmInfoType) && Text(item, "Name") is { } name && _awaitingObject.FindIndex(a => a.Job.VmName == name) is >= 0 and var index)
            {
                var (job, outcome) = _awaitingObject[index];
                _awaitingObject.RemoveAt(index);
                job.Output.Add(item);
                job.End(outcome);
                return;
            }

            EndAwaiting();
            host.Output(item);
        }
    }

    public void Error(ErrorRecord record)
    {
        var target = record.TargetObject is PSObject wrapped ? wrapped.BaseObject : record.TargetObject;
        if (target is string name && vms.TryGetValue(name, out var vm))
        {
            try
            {
                vm.Error.Add(record);
                return;
            }
            catch (InvalidOperationException)
            {
                // That VM's job has closed its streams: the host's job keeps the record.
            }
        }

        host.Error(record);
    }

    public void Verbose(string message) => host.Verbose(message);

    public void Warning(string message) => host.Warning(message);

    public void Progress(ProgressRecord record) => host.Progress(record);

    /// <summary>
    /// The host's part is over: every VM job still open ends now, with the outcome it reported, else Stopped when the
    /// host's part was stopped from here (its VMs were cancelled there), else Failed (no outcome ever arrived).
    /// </summary>
    public void Finish(bool stopped)
    {
        lock (_gate)
        {
            EndAwaiting();
            foreach (var vm in vms.Values)
            {
                vm.End(stopped ? ShutdownOutcome.Cancelled : null);
            }
        }
    }

    /// <summary>-PassThru: a VM whose object did not follow its ShutdownComplete had none (it could not be described).</summary>
    private void EndAwaiting()
    {
        foreach (var (job, outcome) in _awaitingObject)
        {
            job.End(outcome);
        }

        _awaitingObject.Clear();
    }

    private static bool IsOf(PSObject item, string type) =>
        item.TypeNames.Any(t => t.StartsWith(type, StringComparison.Ordinal) || t.StartsWith("Deserialized." + type, StringComparison.Ordinal));

    private static string? Text(PSObject item, string property) =>
        item.Properties[property]?.Value is { } value ? Convert.ToString(value is PSObject p ? p.BaseObject : value, CultureInfo.InvariantCulture) : null;
}

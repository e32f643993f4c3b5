using System.Globalization;
using System.Management.Automation;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// One host's progress in a call across hosts, counted from the events it sends (its own Write-Progress is not sent:
/// its activity ids would collide with the other hosts'): how many of its VMs were requested and how many are done.
/// One progress bar per host; touched only by that host's task.
/// </summary>
internal sealed class HostProgress(string host, int activityId)
{
    private int _requested;
    private int _done;
    private bool _shown;

    /// <summary>The progress record after this object, or null when it changes nothing (not an event of a VM's run).</summary>
    public ProgressRecord? Observe(PSObject item)
    {
        switch (item.Properties["Type"]?.Value?.ToString())
        {
            case "ShutdownRequested" when item.Properties["VmName"] is not null:
                _requested++;
                break;
            case "ShutdownComplete" when item.Properties["VmName"] is not null:
                _done++;
                break;
            default:
                return null;
        }

        _shown = true;
        return new ProgressRecord(activityId, $"Stop-CastraVm on {host}",
            string.Create(CultureInfo.InvariantCulture, $"{_done} of {_requested} VM(s) done"))
        {
            PercentComplete = _requested == 0 ? 0 : Math.Min(100, _done * 100 / _requested),
        };
    }

    /// <summary>The record that removes this host's bar once its part ended; null when none was shown.</summary>
    public ProgressRecord? Completed() => _shown
        ? new ProgressRecord(activityId, $"Stop-CastraVm on {host}", string.Create(CultureInfo.InvariantCulture, $"{_done} of {_requested} VM(s) done"))
        {
            RecordType = ProgressRecordType.Completed,
        }
        : null;
}

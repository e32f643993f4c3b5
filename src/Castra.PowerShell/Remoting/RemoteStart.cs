using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// Start-CastraVm -Session: the same start on every host of the given sessions, at once, each host resolving the
/// paths (-Kernel, -Disk, -QemuPath, -StateRoot) on its own file system. ShouldProcess is asked here, per host; a
/// host's failure (unreachable, no module, another version, its own start error) is that host's error only.
/// </summary>
internal static class RemoteStart
{
    public static void Run(PSCmdlet cmdlet, IEnumerable<PSSession> given, string vmName, Action<Task> track, CancellationToken cancellation)
    {
        var approved = RemoteFanOut.Distinct(given)
            .Where(s => cmdlet.ShouldProcess($"Start VM '{vmName}' on {s.ComputerName}", $"Start VM '{vmName}' on {s.ComputerName}?", "Start-CastraVm"))
            .ToList();
        if (approved.Count == 0)
        {
            return;
        }

        // Confirmed here, once per host: the hosts do not prompt again.
        var call = new RemoteCall("Start-CastraVm", RemoteCall.From(cmdlet.MyInvocation.BoundParameters)).With("Confirm", false);
        RemoteFanOut.RunHere(approved, RemoteFanOut.LocalVersion(cmdlet), (_, _) => call, new DirectCmdletSink(cmdlet), track, cancellation);
    }
}

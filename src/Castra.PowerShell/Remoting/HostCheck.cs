using System.Management.Automation;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// A host's answer to the module check: ready (Refused null, not stopped), or refused with that host's error; and the
/// VMs its call will work on, when they were asked for.
/// </summary>
internal sealed record HostCheck(ErrorRecord? Refused, IReadOnlyList<string> Vms, bool Stopped = false)
{
    public bool Ready => Refused is null && !Stopped;
}

using System.Management.Automation;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the VMs under the state root with their state, PID, channels, uptime and last shutdown outcome.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CastraVm")]
[OutputType(typeof(VmInfo))]
public sealed class GetCastraVmCommand : VmSelectionCmdletBase
{
    protected override void ProcessVm(StateRoot root, string name) =>
        WriteObject(VmInventory.DescribeAsync(root.Vm(name), CancellationToken).GetAwaiter().GetResult());
}

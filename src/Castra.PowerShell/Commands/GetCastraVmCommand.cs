using System.Management.Automation;
using Castra.Errors;
using Castra.Faces;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the VMs under the state root with their state, PID, channels, uptime and last shutdown outcome.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CastraVm")]
[OutputType(typeof(VmInfo))]
public sealed class GetCastraVmCommand : CastraCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        var root = ResolveStateRoot();
        foreach (var name in VmNameSelector.Resolve(root, Name))
        {
            try
            {
                WriteObject(VmInventory.DescribeAsync(root.Vm(name), CancellationToken).GetAwaiter().GetResult());
            }
            catch (CastraException ex)
            {
                WriteError(ErrorRecords.From(ex));
            }
        }
    }
}

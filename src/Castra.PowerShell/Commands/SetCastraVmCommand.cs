using System.Management.Automation;
using Castra.Errors;
using Castra.PowerShell.Selection;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Changes a VM's recorded settings in its vm.json (its shutdown order) without restarting it; the next Stop-CastraVm uses them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "CastraVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(VmInfo))]
public sealed class SetCastraVmCommand : CastraCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>The VM's shutdown order: Stop-CastraVm of several VMs stops lower orders first.</summary>
    [Parameter(Mandatory = true)]
    [WholeNumber]
    [ValidateRange(Castra.Shutdown.ShutdownOrder.Min, Castra.Shutdown.ShutdownOrder.Max)]
    public int ShutdownOrder { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveExistingStateRoot();
        IReadOnlyList<string> names;
        try
        {
            names = VmNameSelector.Resolve(root, Name, WriteError);
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        foreach (var name in names)
        {
            if (!ShouldProcess($"Set the shutdown order of VM '{name}' to {ShutdownOrder} (in {root.Vm(name).Definition})", $"Set the shutdown order of VM '{name}'?", "Set-CastraVm"))
            {
                continue;
            }

            try
            {
                VmSettings.SetShutdownOrder(root, name, ShutdownOrder);
                if (PassThru)
                {
                    WriteObject(VmInventory.DescribeAsync(root.Vm(name), CancellationToken).GetAwaiter().GetResult());
                }
            }
            catch (CastraException ex)
            {
                // One VM's trouble (busy, damaged vm.json, not found) is that VM's non-terminating error.
                WriteError(ErrorRecords.From(ex));
            }
        }
    }
}

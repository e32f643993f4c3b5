using System.Management.Automation;
using Castra.PowerShell.Selection;
using Castra.State;

namespace Castra.PowerShell;

/// <summary>Cmdlets that read VMs selected by name (wildcards; default all): Get-CastraVm, Get-CastraShutdownStatus.</summary>
public abstract class VmSelectionCmdletBase : CastraCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        var root = ResolveExistingStateRoot();
        IReadOnlyList<string> names;
        try
        {
            names = VmNameSelector.Resolve(root, Name, WriteError);
        }
        catch (Errors.CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        foreach (var name in names)
        {
            try
            {
                ProcessVm(root, name);
            }
            catch (Errors.CastraException ex)
            {
                // One VM's trouble is that VM's non-terminating error.
                WriteError(ErrorRecords.From(ex));
            }
        }
    }

    /// <summary>Writes what the cmdlet shows for one selected VM (literal names may not exist: throw CastraVmNotFound).</summary>
    protected abstract void ProcessVm(StateRoot root, string name);
}

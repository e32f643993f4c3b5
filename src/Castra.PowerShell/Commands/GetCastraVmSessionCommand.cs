using System.Management.Automation;
using Castra.Errors;
using Castra.PowerShell.Selection;
using Castra.Sessions;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the guest sessions of VMs (running, draining and ended), oldest first.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CastraVmSession")]
[OutputType(typeof(VmSession))]
public sealed class GetCastraVmSessionCommand : CastraCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] VmName { get; set; } = ["*"];

    [Parameter]
    public SessionStatus? Status { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveExistingStateRoot();
        var manager = new SessionManager(root, PowerShellWording.Instance);
        IReadOnlyList<string> names;
        try
        {
            names = VmNameSelector.Resolve(root, VmName, WriteError);
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        foreach (var name in names)
        {
            try
            {
                if (!root.Vm(name).Exists)
                {
                    throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, $"No VM named '{name}' under {root.Path}.") { Target = name };
                }

                foreach (var session in manager.List(name))
                {
                    if (Status is null || string.Equals(session.Status, Status.ToString(), StringComparison.Ordinal))
                    {
                        WriteObject(session);
                    }
                }
            }
            catch (CastraException ex)
            {
                // One VM's trouble (an unknown or invalid name) is that VM's non-terminating error.
                WriteError(ErrorRecords.From(ex));
            }
        }
    }
}

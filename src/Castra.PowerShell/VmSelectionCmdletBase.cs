using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.PowerShell.Remoting;
using Castra.PowerShell.Selection;
using Castra.State;

namespace Castra.PowerShell;

/// <summary>Cmdlets that read VMs selected by name (wildcards; default all): Get-CastraVm, Get-CastraShutdownStatus.</summary>
public abstract class VmSelectionCmdletBase : CastraCmdletBase
{
    private readonly List<string> _remoteNames = [];

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    /// <summary>Reads the VMs of the hosts of these sessions (New-PSSession -HostName ...), all at once (docs/remoting.md).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public PSSession[]? Session { get; set; }

    protected override void ProcessRecord()
    {
        if (Session is not null)
        {
            // The names and -StateRoot are the hosts' to resolve; every host answers once, in EndProcessing.
            _remoteNames.AddRange(Name);
            return;
        }

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

    protected override void EndProcessing()
    {
        if (Session is null)
        {
            return;
        }

        var parameters = RemoteCall.From(MyInvocation.BoundParameters, nameof(Name));
        parameters[nameof(Name)] = _remoteNames.Distinct(StringComparer.Ordinal).ToArray();
        var call = new RemoteCall(MyInvocation.MyCommand.Name, parameters);
        RemoteFanOut.RunHere(RemoteFanOut.Distinct(Session), RemoteFanOut.LocalVersion(this), (_, _) => call, new DirectCmdletSink(this), Track, CancellationToken);
    }

    /// <summary>Writes what the cmdlet shows for one selected VM (literal names may not exist: throw CastraVmNotFound).</summary>
    protected abstract void ProcessVm(StateRoot root, string name);
}

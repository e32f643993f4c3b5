using System.Management.Automation;
using Castra.Errors;
using Castra.Sessions;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts a guest session: a host process doing work tied to a running VM, which a shutdown of that VM interrupts cleanly first.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "CastraVmSession", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(VmSession))]
public sealed class StartCastraVmSessionCommand : CastraCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string VmName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string FilePath { get; set; } = "";

    [Parameter]
    [AllowEmptyCollection]
    public string[] ArgumentList { get; set; } = [];

    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveStateRoot();
        var command = string.Join(" ", new[] { FilePath }.Concat(ArgumentList));
        if (!ShouldProcess($"Start session '{command}' on VM '{VmName}' under {root.Path}", $"Start session '{command}' on VM '{VmName}'?", "Start-CastraVmSession"))
        {
            return;
        }

        var manager = new SessionManager(root, PowerShellWording.Instance);
        VmSession session;
        try
        {
            session = manager.StartAsync(VmName, PowerShellHost.Program(this, FilePath), ArgumentList, PowerShellHost.CurrentDirectory(this), CancellationToken)
                .GetAwaiter().GetResult();
        }
        catch (CastraException ex)
        {
            WriteError(ErrorRecords.From(ex));
            return;
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            return; // Ctrl+C while looking at the VM: nothing was started.
        }

        if (!Wait)
        {
            WriteObject(session);
            return;
        }

        WriteVerbose($"Session {session.RunId} (PID {session.Pid}) started on VM '{session.VmName}'; waiting for it to end. Output: {session.LogPath}");
        VmSession? final;
        try
        {
            final = manager.WaitAsync(session, CancellationToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C ends the wait, not the session: it leads its own process group and keeps running until it
            // ends or the VM's shutdown interrupts it. The pipeline is stopping, so nothing more can be written.
            return;
        }

        WriteObject(final ?? manager.List(session.VmName).FirstOrDefault(s => s.RunId == session.RunId) ?? session);
    }
}

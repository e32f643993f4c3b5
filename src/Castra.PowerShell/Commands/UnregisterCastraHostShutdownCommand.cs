using System.Management.Automation;
using Castra.Errors;
using Castra.HostShutdown;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Disables and deletes the host-shutdown unit that Register-CastraHostShutdown wrote, without stopping any VM.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Unregister, "CastraHostShutdown", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HostShutdownChange))]
public sealed class UnregisterCastraHostShutdownCommand : PSCmdlet, IDisposable
{
    // Not a CastraCmdletBase: it acts on a unit file, not on a state root, so it has no -StateRoot.
    private readonly CancellationTokenSource _cancellation = new();

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string UnitDirectory { get; set; } = HostShutdownSettings.DefaultUnitDirectory;

    [Parameter]
    [ValidateUnitName(ServiceOnly = true)]
    public string UnitName { get; set; } = HostShutdownSettings.DefaultUnitName;

    /// <summary>Only delete the file; the systemctl commands are written as a warning instead of run.</summary>
    [Parameter]
    public SwitchParameter NoSystemctl { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(UnitDirectory);
        var path = System.IO.Path.Combine(directory, UnitName);
        if (!ShouldProcess($"Disable and delete {path} (the VMs are not stopped)", $"Delete the host-shutdown unit {path}?", "Unregister-CastraHostShutdown"))
        {
            return;
        }

        try
        {
            var change = HostShutdownService.RemoveAsync(directory, UnitName, !NoSystemctl, _cancellation.Token).GetAwaiter().GetResult();
            if (!change.SystemctlRun)
            {
                WriteWarning((NoSystemctl ? "systemctl was not run (-NoSystemctl)" : "systemd is not running this host (PID 1 is not systemd): nothing was disabled") +
                    $". On the host that boots with this unit, run: {string.Join("; ", change.Commands)}");
            }

            if (PassThru)
            {
                WriteObject(change);
            }
        }
        catch (CastraException ex)
        {
            WriteError(ErrorRecords.From(ex));
        }
    }

    /// <summary>Ctrl+C: systemctl is ended, the file is left as it was if it was not yet deleted.</summary>
    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose() => _cancellation.Dispose();
}

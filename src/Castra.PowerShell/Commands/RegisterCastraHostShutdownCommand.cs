using System.Management.Automation;
using Castra.Errors;
using Castra.HostShutdown;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Installs a systemd unit that stops every VM under the state root when the host shuts down, with a TimeoutStopSec derived from the VMs' shutdown plans.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "CastraHostShutdown", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HostShutdownChange))]
public sealed class RegisterCastraHostShutdownCommand : CastraCmdletBase
{
    /// <summary>The castra executable the unit runs; by default the one found on PATH.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CastraPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string UnitDirectory { get; set; } = HostShutdownSettings.DefaultUnitDirectory;

    [Parameter]
    [ValidateUnitName(ServiceOnly = true)]
    public string UnitName { get; set; } = HostShutdownSettings.DefaultUnitName;

    [Parameter]
    [ValidateRange(0, HostShutdownSettings.MaxMarginSeconds)]
    public double Margin { get; set; } = HostShutdownSettings.DefaultMargin.TotalSeconds;

    [Parameter]
    [ValidateUnitName]
    public string[] After { get; set; } = [];

    [Parameter]
    [ValidateUnitName]
    public string[] Before { get; set; } = [];

    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double CooperativeTimeout { get; set; }

    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double TermTimeout { get; set; }

    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double KillTimeout { get; set; }

    [Parameter]
    [ValidateRange(0, 10000)]
    public int ThrottleLimit { get; set; }

    /// <summary>Replace a unit file of that name that Castra did not write.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Only write the file; the systemctl commands are written as a warning instead of run.</summary>
    [Parameter]
    public SwitchParameter NoSystemctl { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveStateRoot();
        HostShutdownUnit unit;
        try
        {
            var settings = new HostShutdownSettings
            {
                CastraPath = ResolveCastra(),
                StateRoot = root.Path,
                UnitDirectory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(UnitDirectory),
                UnitName = UnitName,
                Margin = TimeSpan.FromSeconds(Margin),
                After = After,
                Before = Before,
                CooperativeTimeout = Seconds(nameof(CooperativeTimeout), CooperativeTimeout),
                TermTimeout = Seconds(nameof(TermTimeout), TermTimeout),
                KillTimeout = Seconds(nameof(KillTimeout), KillTimeout),
                ThrottleLimit = ThrottleLimit,
            };
            unit = HostShutdownService.PreviewAsync(settings, PowerShellWording.Instance, CancellationToken).GetAwaiter().GetResult();
        }
        catch (CastraException ex)
        {
            // The whole call has one subject: settings that cannot make a unit end it.
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        WriteVerbose($"TimeoutStopSec={unit.TimeoutStopSeconds}: worst case of the stop of {unit.VmCount} VM(s) {unit.WorstCaseMs} ms + margin {unit.MarginMs} ms.");
        var existing = UnitFileStore.Existing.None;
        try
        {
            existing = UnitFileStore.Examine(UnitDirectoryPath(unit), unit.UnitName);
        }
        catch (CastraException)
        {
            // The install reports it (a link, an unsafe directory) after ShouldProcess, so -WhatIf stays side-effect free.
        }

        var replaces = existing switch
        {
            UnitFileStore.Existing.Ours => "; replaces the unit Castra wrote there",
            UnitFileStore.Existing.Foreign => Force ? "; REPLACES a unit file Castra did not write (-Force)" : "; a unit file Castra did not write is there (refused without -Force)",
            _ => "",
        };
        if (!ShouldProcess(
                $"Write {unit.Path} (stops the VMs under {unit.StateRoot} at host shutdown, TimeoutStopSec={unit.TimeoutStopSeconds}){replaces}",
                $"Write the host-shutdown unit {unit.Path}?", "Register-CastraHostShutdown"))
        {
            return;
        }

        try
        {
            var change = HostShutdownService.InstallAsync(unit, Force, PowerShellWording.Instance, !NoSystemctl, CancellationToken).GetAwaiter().GetResult();
            if (!change.SystemctlRun)
            {
                WriteWarning((NoSystemctl ? "systemctl was not run (-NoSystemctl)" : "systemd is not running this host (PID 1 is not systemd): nothing was enabled") +
                    $". To make the unit take effect, run: {string.Join("; ", change.Commands)}");
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

    private static string UnitDirectoryPath(HostShutdownUnit unit) => System.IO.Path.GetDirectoryName(unit.Path)!;

    private TimeSpan? Seconds(string parameter, double value) => BoundOrNull(parameter, value) is { } s ? TimeSpan.FromSeconds(s) : null;

    /// <exception cref="CastraException">CastraCliNotFound.</exception>
    private string ResolveCastra()
    {
        var path = CastraPath is null ? HostShutdownSettings.FindCastraOnPath() : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CastraPath);
        if (path is null || !File.Exists(path))
        {
            throw new CastraException(ErrorIds.CastraCliNotFound, CastraErrorCategory.ObjectNotFound,
                CastraPath is null
                    ? "the castra CLI is not on PATH: the unit runs it at host shutdown; name it with -CastraPath"
                    : $"the castra executable {path} does not exist")
            {
                Target = CastraPath ?? "castra",
            };
        }

        return System.IO.Path.GetFullPath(path);
    }
}

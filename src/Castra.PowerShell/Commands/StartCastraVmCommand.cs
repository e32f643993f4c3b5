using System.Management.Automation;
using Castra.Errors;
using Castra.Launch;
using Castra.Shutdown;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts QEMU for a VM under the state root, wired for a clean shutdown (pidfile, QMP, serial log, optional guest agent).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "CastraVm", DefaultParameterSetName = KernelSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(VmInfo))]
public sealed class StartCastraVmCommand : CastraCmdletBase
{
    private const string KernelSet = "Kernel";
    private const string DiskSet = "Disk";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = KernelSet)]
    [ValidateNotNullOrEmpty]
    public string Kernel { get; set; } = "";

    [Parameter(ParameterSetName = KernelSet)]
    [ValidateNotNullOrEmpty]
    public string? Initrd { get; set; }

    [Parameter(ParameterSetName = KernelSet)]
    [ValidateNotNullOrEmpty]
    public string? Append { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = DiskSet)]
    [Parameter(ParameterSetName = KernelSet)]
    [ValidateNotNullOrEmpty]
    public string? Disk { get; set; }

    [Parameter(ParameterSetName = DiskSet)]
    [Parameter(ParameterSetName = KernelSet)]
    public SwitchParameter Ephemeral { get; set; }

    [Parameter]
    [ValidateRange(16, 1048576)]
    public int MemoryMB { get; set; } = 512;

    [Parameter]
    [ValidateRange(1, 1024)]
    public int CpuCount { get; set; } = 1;

    [Parameter]
    public SwitchParameter GuestAgent { get; set; }

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
    [ValidateNotNullOrEmpty]
    public string? QemuPath { get; set; }

    [Parameter]
    [ValidateSet("auto", "kvm", "tcg")]
    public string Accelerator { get; set; } = "auto";

    [Parameter]
    public string[] ArgumentList { get; set; } = [];

    /// <summary>This VM's escalation, stored in vm.json: Signals, or Save (a guest that ignores the power button is saved before any signal).</summary>
    [Parameter]
    public ShutdownEscalation Escalation { get; set; } = ShutdownEscalation.Signals;

    /// <summary>This VM's save timeout in seconds, stored in vm.json.</summary>
    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double SaveTimeout { get; set; }

    /// <summary>Boot afresh even if the VM has a saved state (Stop-CastraVm -Save), discarding it.</summary>
    [Parameter]
    public SwitchParameter DiscardSavedState { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveStateRoot();
        if (!ShouldProcess($"Start VM '{Name}' under {root.Path}", $"Start VM '{Name}'?", "Start-CastraVm"))
        {
            return;
        }

        var options = new LaunchOptions
        {
            Kernel = Path(Kernel),
            Initrd = Path(Initrd),
            Append = Append,
            Disk = Path(Disk),
            Ephemeral = Ephemeral,
            MemoryMB = MemoryMB,
            CpuCount = CpuCount,
            GuestAgent = GuestAgent,
            CooperativeTimeoutSeconds = BoundOrNull(nameof(CooperativeTimeout), CooperativeTimeout),
            TermTimeoutSeconds = BoundOrNull(nameof(TermTimeout), TermTimeout),
            KillTimeoutSeconds = BoundOrNull(nameof(KillTimeout), KillTimeout),
            QemuPath = QemuPath is not null && QemuPath.Contains('/', StringComparison.Ordinal) ? Path(QemuPath) : QemuPath,
            Accelerator = Accelerator.ToLowerInvariant(), // ValidateSet binds case-insensitively
            ExtraArguments = ArgumentList,
            DiscardSavedState = DiscardSavedState,
            Escalation = MyInvocation.BoundParameters.ContainsKey(nameof(Escalation)) ? Escalation : null,
            SaveTimeoutSeconds = BoundOrNull(nameof(SaveTimeout), SaveTimeout),
        };

        try
        {
            var vm = new VmLauncher(root, PowerShellWording.Instance).StartAsync(Name, options, CancellationToken).GetAwaiter().GetResult();
            if (PassThru)
            {
                WriteObject(vm);
            }
        }
        catch (CastraException ex)
        {
            WriteError(ErrorRecords.From(ex));
        }
    }

    private string? Path(string? path) =>
        string.IsNullOrEmpty(path) ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

}

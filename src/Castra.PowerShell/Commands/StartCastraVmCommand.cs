using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.Errors;
using Castra.Launch;
using Castra.Shutdown;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts QEMU for a VM under the state root, wired for a clean shutdown (pidfile, QMP, serial log, optional guest agent).</para>
/// <para>With only a name (the Recorded parameter set, the default), the VM starts again from the launch its vm.json
/// records; -Kernel or -Disk give a whole new definition instead.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "CastraVm", DefaultParameterSetName = RecordedSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(VmInfo))]
public sealed class StartCastraVmCommand : CastraCmdletBase
{
    private const string RecordedSet = "Recorded";
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

    /// <summary>The VM's shutdown order, stored in vm.json: Stop-CastraVm of several VMs stops lower orders first.</summary>
    [Parameter]
    [WholeNumber]
    [ValidateRange(Castra.Shutdown.ShutdownOrder.Min, Castra.Shutdown.ShutdownOrder.Max)]
    public int ShutdownOrder { get; set; }

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

    /// <summary>Starts the VM on the hosts of these sessions (New-PSSession -HostName ...), paths as each host sees them (docs/remoting.md).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public PSSession[]? Session { get; set; }

    protected override void ProcessRecord()
    {
        if (Session is not null)
        {
            Remoting.RemoteStart.Run(this, Session, Name, Track, CancellationToken);
            return;
        }

        var root = ResolveStateRoot();
        if (ParameterSetName == RecordedSet)
        {
            StartRecorded(root);
            return;
        }

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
            ShutdownOrder = MyInvocation.BoundParameters.ContainsKey(nameof(ShutdownOrder)) ? ShutdownOrder : null,
            QemuPath = QemuPathArgument(),
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

    /// <summary>
    /// Start-CastraVm NAME: the recorded launch, with the launch parameters given here (-MemoryMB, -CpuCount,
    /// -GuestAgent, the timeouts, -QemuPath, -Accelerator, -ArgumentList) replacing their recorded values.
    /// </summary>
    private void StartRecorded(State.StateRoot root)
    {
        var bound = MyInvocation.BoundParameters;
        var overrides = new LaunchOverrides
        {
            MemoryMB = bound.ContainsKey(nameof(MemoryMB)) ? MemoryMB : null,
            CpuCount = bound.ContainsKey(nameof(CpuCount)) ? CpuCount : null,
            GuestAgent = bound.ContainsKey(nameof(GuestAgent)) ? GuestAgent.IsPresent : null,
            CooperativeTimeoutSeconds = BoundOrNull(nameof(CooperativeTimeout), CooperativeTimeout),
            TermTimeoutSeconds = BoundOrNull(nameof(TermTimeout), TermTimeout),
            KillTimeoutSeconds = BoundOrNull(nameof(KillTimeout), KillTimeout),
            QemuPath = bound.ContainsKey(nameof(QemuPath)) ? QemuPathArgument() : null,
            Accelerator = bound.ContainsKey(nameof(Accelerator)) ? Accelerator.ToLowerInvariant() : null,
            ExtraArguments = bound.ContainsKey(nameof(ArgumentList)) ? ArgumentList : null,
            ShutdownOrder = bound.ContainsKey(nameof(ShutdownOrder)) ? ShutdownOrder : null,
            Escalation = bound.ContainsKey(nameof(Escalation)) ? Escalation : null,
            SaveTimeoutSeconds = BoundOrNull(nameof(SaveTimeout), SaveTimeout),
            DiscardSavedState = DiscardSavedState,
        };

        try
        {
            // Read first: -WhatIf shows what would run, and a VM that cannot be started from its record is an error
            // even under -WhatIf (a definition that is missing, damaged or foreign-owned).
            var launcher = new VmLauncher(root, PowerShellWording.Instance);
            var options = RecordedLaunch.Read(root, Name, overrides, PowerShellWording.Instance);
            var boot = options.Kernel is not null ? $"kernel {options.Kernel}" : $"disk {options.Disk}";
            if (!ShouldProcess($"Start VM '{Name}' under {root.Path} from its recorded definition ({boot}, {options.MemoryMB} MiB, {options.CpuCount} CPU)",
                $"Start VM '{Name}' from its recorded definition?", "Start-CastraVm"))
            {
                return;
            }

            var vm = launcher.StartAsync(Name, options, CancellationToken).GetAwaiter().GetResult();
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

    private string? QemuPathArgument() =>
        QemuPath is not null && QemuPath.Contains('/', StringComparison.Ordinal) ? Path(QemuPath) : QemuPath;

    private string? Path(string? path) =>
        string.IsNullOrEmpty(path) ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

}

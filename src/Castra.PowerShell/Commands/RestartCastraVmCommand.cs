using System.Management.Automation;
using Castra.Errors;
using Castra.Events;
using Castra.Launch;
using Castra.PowerShell.Output;
using Castra.PowerShell.Selection;
using Castra.Shutdown;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Restarts QEMU VMs: the whole graceful shutdown of Stop-CastraVm, then a start from the definition each VM's vm.json records.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "CastraVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ShutdownRequestedEvent), typeof(CooperativeAttemptedEvent), typeof(CooperativeSucceededEvent), typeof(CooperativeTimedOutEvent),
    typeof(EscalationEvent), typeof(HookStartedEvent), typeof(HookCompletedEvent), typeof(ShutdownCompleteEvent), typeof(StartedEvent))]
[OutputType(typeof(VmInfo))]
public sealed class RestartCastraVmCommand : CastraCmdletBase
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    private readonly List<string> _patterns = [];
    private readonly Dictionary<string, StateRoot> _roots = new(StringComparer.Ordinal);
    private VmErrors _errors = null!;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

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
    public CooperativeMethod Method { get; set; } = CooperativeMethod.Auto;

    [Parameter]
    [ValidateRange(0, 10000)]
    public int ThrottleLimit { get; set; }

    [Parameter]
    public ShutdownReason Reason { get; set; } = ShutdownReason.UserRequested;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Message { get; set; }

    /// <summary>After each VM's Started event, its object as Get-CastraVm shows it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing() => _errors = new VmErrors(this, "restarted");

    protected override void ProcessRecord()
    {
        var resolved = ResolveStateRoot();
        _roots.TryAdd(resolved.Path, resolved);
        _patterns.AddRange(Name);
    }

    protected override void EndProcessing()
    {
        Restart();
        _errors.ThrowIfDeferred();
    }

    private void Restart()
    {
        if (_patterns.Count == 0)
        {
            return;
        }

        if (_roots.Count > 1)
        {
            ThrowTerminatingError(ErrorRecords.From(new CastraException(ErrorIds.InvalidStateRoot, CastraErrorCategory.InvalidArgument,
                $"The VMs come from {_roots.Count} state roots ({string.Join(", ", _roots.Keys)}); restart one state root's VMs per call.")));
        }

        var root = _roots.Values.First();
        IReadOnlyList<string> names;
        ShutdownOptions options;
        try
        {
            root.EnsureExists(PowerShellWording.Instance);
            names = VmNameSelector.Resolve(root, _patterns, _errors.Report);

            // The same request as Stop-CastraVm maps (one meaning for the same input), without -TurnOff or -Deadline.
            options = new ShutdownRequest
            {
                CooperativeTimeoutSeconds = BoundOrNull(nameof(CooperativeTimeout), CooperativeTimeout),
                TermTimeoutSeconds = BoundOrNull(nameof(TermTimeout), TermTimeout),
                KillTimeoutSeconds = BoundOrNull(nameof(KillTimeout), KillTimeout),
                Method = Method,
                ThrottleLimit = ThrottleLimit,
                Reason = Reason,
                Message = Message,
            }.ToOptions();
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        var approved = new List<string>();
        foreach (var name in names)
        {
            string boot;
            try
            {
                // Checked before asking: a VM that could not be started again is not offered for a restart.
                var launch = RecordedLaunch.Read(root, name, null, PowerShellWording.Instance);
                boot = launch.Kernel is not null ? $"kernel {launch.Kernel}" : $"disk {launch.Disk}";
            }
            catch (CastraException ex)
            {
                _errors.Report(ErrorRecords.From(ex));
                continue;
            }

            if (ShouldProcess($"Restart VM '{name}': stop it (cooperative step, then SIGTERM, then SIGKILL), then start it from its recorded definition ({boot}).",
                $"Restart VM '{name}'?", "Restart-CastraVm"))
            {
                approved.Add(name);
            }
        }

        if (approved.Count == 0)
        {
            return;
        }

        var feed = new ShutdownFeed();
        var reporter = new ShutdownReporter(new CmdletSink(this, _errors), passThru: PassThru ? name => VmObjects.Describe(root, name) : null, passThruAfter: EventTypes.Started);
        var work = new VmRestarter(root, PowerShellWording.Instance).RestartAsync(approved, options with { Wording = PowerShellWording.Instance }, feed, CancellationToken);
        Track(work);
        _ = work.ContinueWith(_ => feed.Complete(), TaskScheduler.Default);
        feed.DrainBlocking(reporter.Report, reporter.RefreshProgress, ProgressInterval);
        try
        {
            work.GetAwaiter().GetResult();
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
        }
    }
}

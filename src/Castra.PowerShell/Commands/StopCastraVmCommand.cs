using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.Errors;
using Castra.Events;
using Castra.PowerShell.Selection;
using Castra.Hooks;
using Castra.PowerShell.Jobs;
using Castra.PowerShell.Output;
using Castra.Shutdown;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Shuts QEMU VMs down: cooperative step (ACPI power button or guest agent), then SIGTERM, then SIGKILL, each bounded.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "CastraVm", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ShutdownRequestedEvent), typeof(CooperativeAttemptedEvent), typeof(CooperativeSucceededEvent), typeof(CooperativeTimedOutEvent),
    typeof(EscalationEvent), typeof(SaveAttemptedEvent), typeof(SaveSucceededEvent), typeof(SaveFailedEvent), typeof(HookStartedEvent), typeof(HookCompletedEvent), typeof(ShutdownCompleteEvent))]
[OutputType(typeof(CastraShutdownJob), typeof(CastraRemoteJob))]
[OutputType(typeof(VmInfo))]
public sealed class StopCastraVmCommand : CastraCmdletBase
{
    private const string NameSet = "Name";
    private const string InputObjectSet = "InputObject";
    private const string AllSet = "All";
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    private readonly List<string> _patterns = [];
    private readonly Remoting.HostSelection _hosts = new();
    private bool _refusedRemote;
    private readonly Dictionary<string, StateRoot> _roots = new(StringComparer.Ordinal);
    private VmErrors _errors = null!;
    private bool _received;

    /// <summary>"Yes to All" / "No to All" at the -TurnOff prompt: one answer for every VM of the call.</summary>
    private bool _turnOffAll;
    private bool _turnOffNone;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VmInfo[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

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

    /// <summary>Turn the VM off without asking the guest: SIGTERM, then SIGKILL (high impact: confirmed unless -Force).</summary>
    [Parameter]
    public SwitchParameter TurnOff { get; set; }

    /// <summary>Save instead of power off: the guest's whole state goes to the VM's image, QEMU ends (outcome Saved), the next start resumes it.</summary>
    [Parameter]
    public SwitchParameter Save { get; set; }

    /// <summary>What follows a cooperative step that did not stop the VM: Signals (SIGTERM, then SIGKILL) or Save first. Unbound: the VM's vm.json, else Signals.</summary>
    [Parameter]
    public ShutdownEscalation Escalation { get; set; } = ShutdownEscalation.Signals;

    /// <summary>How long a save (-Save, -Escalation Save) may take, in seconds (default 30).</summary>
    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double SaveTimeout { get; set; }

    /// <summary>No confirmation prompt (for -TurnOff): what scheduled tasks and scripts pass to run unattended.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [ValidateRange(0, 10000)]
    public int ThrottleLimit { get; set; }

    [Parameter]
    public ShutdownReason Reason { get; set; } = ShutdownReason.UserRequested;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Message { get; set; }

    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double Deadline { get; set; }

    [Parameter]
    public HookErrorAction HookErrorAction { get; set; } = HookErrorAction.Continue;

    [Parameter]
    [ValidateRange(0, 86400)]
    public double DrainTimeout { get; set; } = ShutdownOptions.DefaultDrainTimeout.TotalSeconds;

    [Parameter]
    public SwitchParameter SaveState { get; set; }

    /// <summary>Seconds to pause after each group of the shutdown order before the next group starts.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public double GroupDelay { get; set; }

    /// <summary>Stop every VM at once, whatever its shutdown order.</summary>
    [Parameter]
    public SwitchParameter IgnoreOrder { get; set; }

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>After each VM's stop, its object as Get-CastraVm shows it (after that VM's events).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Runs the stop on the hosts of these sessions (New-PSSession -HostName ...), all at once (docs/remoting.md).</summary>
    [Parameter(ParameterSetName = NameSet)]
    [Parameter(ParameterSetName = AllSet)]
    [ValidateNotNullOrEmpty]
    public PSSession[]? Session { get; set; }

    /// <summary>
    /// The host a piped VM object came from (its PSComputerName, from -Session or Invoke-Command): with -Session its
    /// names go to that host only; without, it is refused (CastraVmOnAnotherHost) rather than taken for a local VM.
    /// </summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("PSComputerName")]
    public string? ComputerName { get; set; }

    protected override void ProcessRecord()
    {
        _received = true;
        if (Session is not null)
        {
            // The names and -StateRoot are the hosts' to resolve, not this machine's.
            _hosts.Add(All ? [] : Name, Remoting.HostSelection.IsLocal(ComputerName) ? null : ComputerName);
            return;
        }

        if (!Remoting.HostSelection.IsLocal(ComputerName))
        {
            // Get-CastraVm -Session $s | Stop-CastraVm: the same name here may be another VM; never stop that one.
            _refusedRemote = true;
            _errors.Report(Remoting.RemoteErrors.VmOnAnotherHost(Name, ComputerName!));
            return;
        }

        // -StateRoot may arrive per pipeline object (Get-CastraVm -StateRoot X | Stop-CastraVm).
        var resolved = ResolveStateRoot();
        _roots.TryAdd(resolved.Path, resolved);
        switch (ParameterSetName)
        {
            case NameSet:
                _patterns.AddRange(Name);
                break;
            case InputObjectSet:
                _patterns.AddRange(InputObject.Select(vm => WildcardEscape(vm.Name)));
                break;
        }
    }

    protected override void BeginProcessing() => _errors = new VmErrors(this);

    protected override void EndProcessing()
    {
        if (Session is null && _refusedRemote && _patterns.Count == 0)
        {
            // Every piped VM was another host's: nothing here to stop.
            _errors.ThrowIfDeferred();
            return;
        }

        if (Session is not null)
        {
            StopRemote();
        }
        else
        {
            Stop();
        }

        // Under -ErrorAction Stop every VM ran its whole sequence first; now the call ends with one error naming them all.
        _errors.ThrowIfDeferred();
    }

    private void Stop()
    {
        // An empty pipeline (Get-CastraVm | Where-Object State -eq Running | Stop-CastraVm, nothing running) asks
        // for nothing: ProcessRecord never ran, and there is nothing to report.
        if (!_received)
        {
            return;
        }

        if (_roots.Count > 1)
        {
            ThrowTerminatingError(ErrorRecords.From(new CastraException(ErrorIds.InvalidStateRoot, CastraErrorCategory.InvalidArgument,
                $"The VMs come from {_roots.Count} state roots ({string.Join(", ", _roots.Keys)}); stop one state root's VMs per call.")));
        }

        var root = _roots.Count == 1 ? _roots.Values.First() : ResolveStateRoot();
        IReadOnlyList<string> names;
        var before = new List<ErrorRecord>();
        var notes = new List<string>();
        try
        {
            root.EnsureExists(PowerShellWording.Instance);
            names = All ? root.ListVmNames() : VmNameSelector.Resolve(root, _patterns, before.Add);
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        if (names.Count == 0)
        {
            // Nothing to stop is said, never silent: an empty root is a warning, a pattern that matched no VM an error.
            if (All)
            {
                notes.Add($"There are no VMs under {root.Path}: nothing to stop.");
            }
            else if (before.Count == 0)
            {
                before.Add(ErrorRecords.From(new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound,
                    $"No VM under {root.Path} matches {string.Join(", ", _patterns.Select(p => $"'{p}'"))}.") { Target = string.Join(",", _patterns) }));
            }
        }

        if (AsJob && names.Count == 0)
        {
            // -AsJob always returns a job: what went wrong is in it.
            var failed = CastraShutdownJob.Failed(MyInvocation.Line, before, notes);
            JobRepository.Add(failed);
            WriteObject(failed);
            return;
        }

        notes.ForEach(_errors.Warn);
        if (!AsJob)
        {
            before.ForEach(_errors.Report);
        }

        if (names.Count == 0)
        {
            return;
        }

        ShutdownOptions options;
        try
        {
            // The shared request maps the shutdown's own timeouts; the hook and session settings are set here.
            options = Request().ToOptions() with
            {
                Wording = PowerShellWording.Instance,
                HookErrorAction = HookErrorAction,
                DrainTimeout = TimeSpan.FromSeconds(DrainTimeout),
                SaveState = SaveState,
                GroupDelay = TimeSpan.FromSeconds(GroupDelay),
                IgnoreOrder = IgnoreOrder,
                Save = Save,
                Escalation = MyInvocation.BoundParameters.ContainsKey(nameof(Escalation)) ? Escalation : null,
                SaveTimeout = BoundOrNull(nameof(SaveTimeout), SaveTimeout) is { } saveSeconds ? TimeSpan.FromSeconds(saveSeconds) : null,
            };
            options.Validate();
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        var approved = Approve(root, names, options);
        if (approved.Count == 0)
        {
            return;
        }

        // The deadline was checked against the plan above; the engine need not plan again.
        var engine = new ShutdownEngine(root);
        var run = options with { Deadline = null };
        if (AsJob)
        {
            // Started before it is written: a later pipeline stage (Stop-Job, Remove-Job) must get a live job.
            var job = new CastraShutdownJob(MyInvocation.Line, approved, turnedOff: options.Force, passThru: PassThruFor(root));
            before.ForEach(job.Error.Add);
            JobRepository.Add(job);
            job.Start(engine, run);
            WriteObject(job);
            return;
        }

        RunHere(engine, approved, run, PassThruFor(root));
    }

    /// <summary>-PassThru: the VM as Get-CastraVm shows it now (a VM that cannot be described gives no object: its error was reported).</summary>
    private Func<string, object?>? PassThruFor(StateRoot root) => PassThru ? name => VmObjects.Describe(root, name) : null;

    /// <summary>-Session: every host runs this same call (Remoting/RemoteStop.cs).</summary>
    private void StopRemote()
    {
        var parameters = Remoting.RemoteCall.From(MyInvocation.BoundParameters, nameof(Name), nameof(All), nameof(ComputerName));
        new Remoting.RemoteStop(this, _errors, Track, CancellationToken)
            .Run(Session!, parameters, All ? null : _hosts, BoundOrNull(nameof(Deadline), Deadline), TurnOff, Force, AsJob);
    }

    /// <summary>Asks ShouldProcess per VM (with the engine's plan as the description under -WhatIf or -Deadline).</summary>
    private List<string> Approve(StateRoot root, IReadOnlyList<string> names, ShutdownOptions options)
    {
        var whatIf = (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent)
            || SessionState.PSVariable.GetValue("WhatIfPreference") is true or SwitchParameter { IsPresent: true };
        Dictionary<string, VmShutdownPlan>? plans = null;
        var ordered = false;
        if (whatIf || options.Deadline is not null)
        {
            IReadOnlyList<VmShutdownPlan> planned = [];
            try
            {
                // The engine checks -Deadline against the same plans that -WhatIf shows.
                planned = new ShutdownEngine(root).PreviewAsync(names, options, CancellationToken).GetAwaiter().GetResult();
            }
            catch (CastraException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex));
            }

            plans = planned.ToDictionary(p => p.VmName, StringComparer.Ordinal);
            ordered = planned.Select(p => p.Group).Distinct().Count() > 1;
            if (whatIf && ordered)
            {
                // The order as a whole, once: under -WhatIf ShouldProcess only prints, so this asks nothing.
                ShouldProcess($"Stop {planned.Count} VMs in their shutdown order: {ShutdownPlanner.DescribeOrder(planned)}; worst case of the whole order " +
                    $"{EventText.Seconds(planned.Max(p => p.OrderWorstCaseMs))}.", "", "Stop-CastraVm");
            }

            // -WhatIf lists the VMs in the order they would stop.
            var asked = names.ToHashSet(StringComparer.Ordinal);
            names = [.. planned.Select(p => p.VmName).Where(asked.Contains)];
        }

        var approved = new List<string>();
        foreach (var name in names)
        {
            if (plans is not null && plans.TryGetValue(name, out var missing) && missing.IsNotFound)
            {
                _errors.Report(ErrorRecords.From(new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, missing.Detail) { Target = name }));
                continue;
            }

            var description = plans is not null && plans.TryGetValue(name, out var plan)
                ? $"Stop VM '{name}' ({plan.State}){(ordered ? GroupText(plan) : "")}: {plan.Steps}; worst case {EventText.Seconds(plan.WorstCaseMs)}. {plan.Detail}.{HooksText(plan)}"
                : $"Stop VM '{name}': {(TurnOff ? "turn it off: SIGTERM, then SIGKILL, without asking the guest" : "cooperative step, then SIGTERM, then SIGKILL")}.";
            if (ShouldProcess(description, $"Stop VM '{name}'?", "Stop-CastraVm") && ConfirmTurnOff(name))
            {
                approved.Add(name);
            }
        }

        return approved;
    }

    /// <summary>
    /// -TurnOff skips the guest's own shutdown, so it is confirmed as a high-impact action, as Hyper-V's Stop-VM
    /// -TurnOff is: unless -Force (PowerShell's "no prompt"), -Confirm:$false, or $ConfirmPreference None. Where no
    /// one can answer (pwsh -NonInteractive), that VM gets a clear error saying to add -Force, not PowerShell's own.
    /// </summary>
    private bool ConfirmTurnOff(string name)
    {
        if (!TurnOff || Force || MyInvocation.BoundParameters.ContainsKey("Confirm")
            || SessionState.PSVariable.GetValue("ConfirmPreference") is ConfirmImpact.None)
        {
            return true;
        }

        try
        {
            return ShouldContinue(
                $"Turn VM '{name}' off? The guest is not asked to shut down: it gets SIGTERM, then SIGKILL, and may lose unsaved data.",
                "Confirm turning off", ref _turnOffAll, ref _turnOffNone);
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or System.Management.Automation.Host.HostException)
        {
            _errors.Report(ErrorRecords.Create(ex, ModuleErrorIds.ConfirmationRequired, CastraErrorCategory.PermissionDenied, name,
                $"Turning VM '{name}' off needs confirmation, and this session cannot ask (non-interactive): add -Force to run unattended."));
            return false;
        }
    }

    private void RunHere(ShutdownEngine engine, IReadOnlyList<string> names, ShutdownOptions options, Func<string, object?>? passThru)
    {
        var feed = new ShutdownFeed();
        var reporter = new ShutdownReporter(new CmdletSink(this, _errors), turnedOff: options.Force, passThru);
        var work = engine.StopAsync(names, options, feed, CancellationToken);
        Track(work);
        _ = work.ContinueWith(_ => feed.Complete(), TaskScheduler.Default);

        // Workers only enqueue; output happens here, on the pipeline thread.
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

    private ShutdownRequest Request() => new()
    {
        CooperativeTimeoutSeconds = BoundOrNull(nameof(CooperativeTimeout), CooperativeTimeout),
        TermTimeoutSeconds = BoundOrNull(nameof(TermTimeout), TermTimeout),
        KillTimeoutSeconds = BoundOrNull(nameof(KillTimeout), KillTimeout),
        DeadlineSeconds = BoundOrNull(nameof(Deadline), Deadline),
        Method = Method,
        Force = TurnOff,
        ThrottleLimit = ThrottleLimit,
        Reason = Reason,
        Message = Message,
    };

    private static string GroupText(VmShutdownPlan plan) =>
        $" in group {plan.Group} (order {plan.ShutdownOrder}{(plan.EarlierGroupsMs > 0 ? $", starts within {EventText.Seconds(plan.EarlierGroupsMs)}" : "")})";

    private static string HooksText(VmShutdownPlan plan) =>
        string.IsNullOrEmpty(plan.Hooks) || plan.Hooks == "none" ? "" : $" Hooks: {plan.Hooks}.";

    private static string WildcardEscape(string name) =>
        string.Concat(name.Select(c => c is '*' or '?' or '[' or ']' or '`' ? "`" + c.ToString(CultureInfo.InvariantCulture) : c.ToString(CultureInfo.InvariantCulture)));
}

using System.Diagnostics;
using System.Globalization;
using Castra.Diagnostics;
using Castra.Errors;
using Castra.Events;
using Castra.Hooks;
using Castra.Native;
using Castra.Processes;
using Castra.Qmp;
using Castra.Sessions;
using Castra.Shutdown.Plan;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// One VM's shutdown, start to finish: take the VM's lock (or follow whoever holds it), then run the ordered,
/// bounded sequence ShutdownRequested → cooperative step → SIGTERM? → SIGKILL? → ShutdownComplete.
/// </summary>
internal sealed class VmShutdown
{
    private readonly VmPaths _vm;
    private readonly ShutdownOptions _options;
    private readonly IShutdownObserver _observer;
    private readonly StartupSlot _startup;

    /// <summary>The group's order when the call ordered its VMs; null: the VM's own recorded order is reported.</summary>
    private readonly int? _order;

    public VmShutdown(VmPaths vm, ShutdownOptions options, IShutdownObserver observer, StartupSlot startup, int? order = null)
    {
        _order = order;
        _vm = vm;
        _options = options;
        _observer = observer;
        _startup = startup;
    }

    /// <summary>
    /// Never throws but for the caller's own cancellation: whatever goes wrong for this VM (a hostile file, a broken
    /// channel, a bug) ends as this VM's Failed result, recorded where it can be, and the other VMs go on.
    /// </summary>
    public async Task<VmShutdownResult> RunAsync(CancellationToken cancellationToken)
    {
        VmDirectory? dir = null;
        try
        {
            // One hop to the state I/O threads for all three: opening the directory, taking the lock and reading
            // what the run starts from (status, vm.json, journal) touch the disk.
            (dir, var vmLock, var prepared) = await StateIo.Shared.RunAsync(OpenLockAndPrepare).ConfigureAwait(false);
            if (dir is null)
            {
                var message = $"No VM named '{_vm.Name}' under {_vm.Root.Path} ({_vm.Directory} does not exist).";
                Diagnose(DiagnosticSeverity.Error, ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, message);
                return new VmShutdownResult(_vm.Name, null, false, 0, ErrorIds.VmNotFound, message);
            }

            if (vmLock is null)
            {
                // Following another owner can take minutes: never while holding a start-up slot.
                _startup.Release();
                (vmLock, var followed) = await ShutdownFollower.AcquireOrFollowAsync(dir, _options, _observer, cancellationToken).ConfigureAwait(false);
                if (vmLock is null)
                {
                    return followed!;
                }
            }

            using (vmLock)
            {
                using var run = prepared ?? new Run(this, dir);
                return await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (UnsafeStateFileException ex)
        {
            // Before the run could start (its directory or lock refused): nothing was sent to the VM.
            return Refused(ErrorIds.UnsafeStateFile, CastraErrorCategory.PermissionDenied, $"{ex.Message}; nothing was sent to the VM");
        }
#pragma warning disable CA1031 // The last-resort guard: one VM's failure of any kind must not reach the others.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Refused(ErrorIds.Unexpected, CastraErrorCategory.NotSpecified, $"unexpected {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            dir?.Dispose();
        }
    }

    private (VmDirectory? Dir, VmLock? Lock, Run? Prepared) OpenLockAndPrepare()
    {
        var dir = VmDirectory.TryOpen(_vm);
        if (dir is null)
        {
            return (null, null, null);
        }

        VmLock? vmLock = null;
        try
        {
            vmLock = VmLock.TryAcquire(dir);
            if (vmLock is null)
            {
                return (dir, null, null);
            }

            var run = new Run(this, dir);
            run.Prepare();
            return (dir, vmLock, run);
        }
        catch
        {
            vmLock?.Dispose();
            dir.Dispose();
            throw;
        }
    }

    /// <summary>A failure outside a run (no status or journal to write): reported, and recorded in the audit trail.</summary>
    private VmShutdownResult Refused(string errorId, CastraErrorCategory category, string detail)
    {
        Diagnose(DiagnosticSeverity.Error, errorId, category, $"{_vm.Name}: {detail}");
        var now = DateTime.UtcNow;
        try
        {
            AuditTrail.Append(_vm.Root, new AuditRecord
            {
                Timestamp = now,
                VmName = _vm.Name,
                ShutdownId = "",
                Reason = ContractNames.Of(_options.Reason),
                Message = _options.Message,
                User = Environment.UserName,
                Host = Environment.MachineName,
                Pid = OwnerProcess.Pid,
                StartedAt = now,
                Outcome = ContractNames.Of(ShutdownOutcome.Failed),
                Force = _options.Force,
                Path = AuditTrail.PathOf([]),
                Detail = detail,
            });
        }
        catch (IOException)
        {
            // The diagnostic above already carries the failure.
        }

        return new VmShutdownResult(_vm.Name, ShutdownOutcome.Failed, false, 0, errorId, detail);
    }

    private void Diagnose(DiagnosticSeverity severity, string errorId, CastraErrorCategory category, string message) =>
        _observer.OnDiagnostic(new ShutdownDiagnostic(_vm.Name, severity, errorId, category, message));

    private static long Ms(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n.ToString(CultureInfo.InvariantCulture)} {what}s";

    /// <summary>
    /// One orchestrated run (lock held): record the start, look at the VM once (its QEMU, sessions and hooks), build
    /// its plan, run the plan's steps in order, record the end.
    /// </summary>
    private sealed class Run : IDisposable
    {
        /// <summary>How long a run waits for its durable point before going on without it.</summary>
        private static readonly TimeSpan CommitWait = TimeSpan.FromSeconds(2);

        private readonly VmShutdown _owner;
        private readonly long _startedAt = Stopwatch.GetTimestamp();
        private RunContext? _prepared;
        private ShutdownTimeouts _timeouts = ShutdownTimeouts.Defaults;
        private bool _identityUncertain;
        private ShutdownPhase _phase = ShutdownPhase.Requested;
        private VmDefinition? _definition;

        /// <summary>What the run found of the VM's QEMU, once it looked.</summary>
        private QemuFound? _found;

        /// <summary>The QEMU that exited, whose pidfile and sockets are still to be removed (in the final hop).</summary>
        private int? _leftoversOf;

        /// <summary>The interrupted shutdown this run takes over, if any.</summary>
        private StatusDocument? _takeover;

        public Run(VmShutdown owner, VmDirectory dir)
        {
            _owner = owner;
            Dir = dir;
        }

        private VmPaths Vm => _owner._vm;

        private VmDirectory Dir { get; }

        private ShutdownOptions Options => _owner._options;

        /// <summary>The run's shared state, once prepared.</summary>
        private RunContext Context => _prepared ?? throw new InvalidOperationException("The run was not prepared.");

        public async Task<VmShutdownResult> ExecuteAsync(CancellationToken cancellationToken)
        {
            if (_prepared is null)
            {
                // A follower that got the lock after all: prepared here, in a hop of its own.
                await StateIo.Shared.RunAsync(Prepare).ConfigureAwait(false);
            }

            try
            {
                Context.Recorder.Emit(new ShutdownRequestedEvent
                {
                    Reason = ContractNames.Of(Options.Reason),
                    Message = Options.Message,
                    ShutdownOrder = _owner._order ?? ShutdownOrder.Of(_definition),
                });
                await EndInterruptedHooksAsync(cancellationToken).ConfigureAwait(false);
                var plan = await PlanAsync(cancellationToken).ConfigureAwait(false);
                return await RunPlanAsync(plan, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return await FinishAsync(ShutdownOutcome.Cancelled, $"cancelled by the caller during {ContractNames.Of(_phase)}; no further signal was sent", ErrorIds.ShutdownCancelled).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Any failure ends this VM's run as Failed, recorded (status, journal, audit); never another VM's.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var failure = $"unexpected failure during {ContractNames.Of(_phase)} ({ex.GetType().Name}): {ex.Message}";
                _owner.Diagnose(DiagnosticSeverity.Error, ErrorIds.Unexpected, CastraErrorCategory.NotSpecified, $"{Vm.Name}: {failure}");
                return await FinishAsync(ShutdownOutcome.Failed, failure, ErrorIds.Unexpected).ConfigureAwait(false);
            }
            finally
            {
                _prepared?.Process?.Dispose();
            }
        }

        /// <summary>Looks at the VM once (its QEMU, its sessions, its hooks) and decides the whole sequence from that.</summary>
        private async Task<ShutdownPlan> PlanAsync(CancellationToken cancellationToken)
        {
            var located = await ProcessLocator.LocateAsync(Dir, _definition, Options.UsePidfd, cancellationToken).ConfigureAwait(false);
            Context.Process = located.Verdict == IdentityVerdict.Verified ? located.Process : null;
            var found = located.Found;
            _found = found;
            var (sessions, hooks) = await StateIo.Shared.RunAsync(() => Examine(found, located.Pid)).ConfigureAwait(false);

            string detail;
            switch (found)
            {
                case QemuFound.Exited:
                    detail = located.Detail + "; its leftover pidfile and sockets were removed";
                    break;
                case QemuFound.Stale:
                    detail = located.Detail + "; the stale pidfile was removed and nothing was signalled";
                    _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.StalePidFile, CastraErrorCategory.InvalidData, $"{Vm.Name}: {detail}");
                    _identityUncertain = true;
                    break;
                case QemuFound.Disputed:
                    detail = $"{located.Detail}; nothing was signalled: {Remediation.IdentityDisputed(Vm, located.Pid)}";
                    _identityUncertain = true;
                    break;
                case QemuFound.Running:
                    detail = located.Detail;
                    _owner.Diagnose(DiagnosticSeverity.Trace, ErrorIds.Trace, CastraErrorCategory.NotSpecified, $"{Vm.Name}: QEMU PID {located.Pid} is the VM's: {located.Detail}");
                    if (located.StalePidFile is { } stale)
                    {
                        _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.StalePidFile, CastraErrorCategory.InvalidData, $"{Vm.Name}: {stale}; {located.Detail}, which is stopped instead");
                    }

                    break;
                default:
                    detail = located.Detail;
                    break;
            }

            var plan = ShutdownPlanBuilder.Build(Vm.Name, found, detail, sessions, hooks, _timeouts, Options.ResolveFor(_definition));
            if (found is QemuFound.Running or QemuFound.Exited)
            {
                var pre = plan.Steps.OfType<HookPhaseStep>().Where(s => s.Stage == HookStage.PreStop).Sum(s => s.Hooks.Count);
                var names = plan.Steps.OfType<HookPhaseStep>().SelectMany(s => s.Hooks).Select(h => h.Describe()).ToList();
                _owner.Diagnose(DiagnosticSeverity.Trace, ErrorIds.Trace, CastraErrorCategory.NotSpecified,
                    $"{Vm.Name}: {Count(pre, "PreStop hook")} and {Count(plan.HookCount - pre, "PostStop hook")} to run" + (names.Count == 0 ? "" : $" ({string.Join(", ", names)})"));
            }

            // The plan's worst case is the run's deadline (followers trust it); the write is queued, not waited for.
            _ = Context.Status.Update(d =>
            {
                d.QemuPid = located.Pid;
                d.Deadline = d.StartedAt + plan.WorstCase;
                d.HooksTotal = plan.HookCount;
            });
            return plan;
        }

        /// <summary>
        /// On the state I/O threads: the sessions to drain (records of sessions that ended unwatched are closed), the
        /// leftovers of a QEMU found gone, and the hooks when there is a QEMU to stop or one that died on its own.
        /// </summary>
        private (IReadOnlyList<VmSession> Sessions, HookSelection Hooks) Examine(QemuFound found, int? pid)
        {
            IReadOnlyList<VmSession> sessions;
            try
            {
                sessions = SessionDrainer.Reconcile(Dir);
            }
            catch (IOException ex)
            {
                // sessions/ refused (a link, another user's directory): its records prove nothing, so nothing is signalled.
                _owner.Diagnose(DiagnosticSeverity.Warning, ex is UnsafeStateFileException ? ErrorIds.UnsafeStateFile : ErrorIds.Unexpected, CastraErrorCategory.PermissionDenied,
                    $"{Vm.Name}: {ex.Message}; its guest sessions are not drained");
                sessions = [];
            }

            switch (found)
            {
                case QemuFound.Exited:
                    LeftoverFiles.RemoveFor(Dir, pid);
                    break;
                case QemuFound.Stale:
                    LeftoverFiles.RemovePidFile(Dir);
                    break;
            }

            return (sessions, found is QemuFound.Running or QemuFound.Exited ? LoadHooks(found == QemuFound.Running) : HookSelection.None);
        }

        /// <summary>
        /// The VM's hooks. An unreadable hooks.json is a warning and no hooks under Continue; under Stop, with QEMU
        /// running, the plan refuses the run (the hooks it may hold were asked to guard the stop). Once QEMU has
        /// exited there is no stop left to guard: a warning, whatever the HookErrorAction.
        /// </summary>
        private HookSelection LoadHooks(bool qemuRunning)
        {
            try
            {
                var load = new HookStore(Vm.Root).LoadFrom(Dir.Root);
                foreach (var ignored in load.Ignored)
                {
                    _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.InvalidHook, CastraErrorCategory.InvalidData, $"{Vm.Name}: {Vm.Root.HooksFile}: {ignored}");
                }

                return new HookSelection(
                    qemuRunning ? HookStore.ForVm(load.File.Hooks, Vm.Name, HookStage.PreStop) : [],
                    HookStore.ForVm(load.File.Hooks, Vm.Name, HookStage.PostStop));
            }
            catch (CastraException ex)
            {
                if (qemuRunning && Options.HookErrorAction == HookErrorAction.Stop)
                {
                    return new HookSelection([], [], ex.Message);
                }

                _owner.Diagnose(DiagnosticSeverity.Warning, ex.ErrorId, ex.Category, $"{Vm.Name}: {ex.Message}; no hooks run for this shutdown");
                return HookSelection.None;
            }
        }

        /// <summary>
        /// Runs the plan: the steps before QEMU is touched (a failure ends the run there), then the stop steps until
        /// one leaves QEMU gone, then the steps after it. A QEMU that survives every stop step fails the run.
        /// </summary>
        private async Task<VmShutdownResult> RunPlanAsync(ShutdownPlan plan, CancellationToken cancellationToken)
        {
            var prepare = plan.In(StepSection.Prepare).ToList();
            if (prepare.Count > 0)
            {
                // The session drain and PreStop hooks may take a while: they start once the run's status is on record,
                // so a caller that looks meanwhile (a session, a start) is told the VM is being shut down, not just busy.
                await WrittenAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var step in prepare)
            {
                var result = await StepAsync(step, cancellationToken).ConfigureAwait(false);
                if (result.Kind == StepResultKind.Failed)
                {
                    return await FinishAsync(ShutdownOutcome.Failed, result.Detail, result.ErrorId).ConfigureAwait(false);
                }
            }

            var outcome = ShutdownOutcome.Graceful;
            if (plan.Found == QemuFound.Running)
            {
                StepResult? stopped = null;
                var durable = false;
                foreach (var step in plan.In(StepSection.Stop))
                {
                    if (!durable)
                    {
                        durable = true;
                        Enter(step.Phase!.Value);
                        await MakeDurableAsync(cancellationToken).ConfigureAwait(false);
                    }

                    var result = await StepAsync(step, cancellationToken).ConfigureAwait(false);
                    if (result.Kind == StepResultKind.Stopped)
                    {
                        stopped = result;
                        break;
                    }

                    if (result.Kind == StepResultKind.Failed)
                    {
                        // A plain save that failed: the VM was left running, so nothing after it runs.
                        return await FinishAsync(ShutdownOutcome.Failed, result.Detail, result.ErrorId).ConfigureAwait(false);
                    }
                }

                if (Context.StateSaved && stopped is not null)
                {
                    // Saved, even when QEMU then needed a signal to end (the image was committed before).
                    stopped = StepResult.Stopped(ShutdownOutcome.Saved);
                }

                if (stopped is not { } gone)
                {
                    var failure = SurvivedKill(Context.Process!);
                    _owner.Diagnose(DiagnosticSeverity.Error, ErrorIds.StopFailed, CastraErrorCategory.OperationTimeout, $"{Vm.Name}: {failure}");
                    return await FinishAsync(ShutdownOutcome.Failed, failure, ErrorIds.StopFailed).ConfigureAwait(false);
                }

                outcome = gone.Outcome;
                _leftoversOf = Context.Process!.Pid;
            }

            var release = plan.In(StepSection.Release).ToList();
            if (release.Count > 0 && _leftoversOf is { } pid)
            {
                // Before the PostStop hooks, which may look at the VM's directory; without hooks, in the final hop.
                _leftoversOf = null;
                await StateIo.Shared.RunAsync(() => LeftoverFiles.RemoveFor(Dir, pid)).ConfigureAwait(false);
            }

            foreach (var step in release)
            {
                await StepAsync(step, cancellationToken).ConfigureAwait(false);
            }

            return await FinishAsync(outcome, plan.Found == QemuFound.Running ? null : plan.FoundDetail).ConfigureAwait(false);
        }

        /// <summary>
        /// The run's one durable point (docs/state-layout.md, "Durability"): before QEMU is first asked or signalled,
        /// what the run recorded so far (its start, plan, phase and events) is flushed to disk, together with every
        /// other run that got there meanwhile. Bounded: a disk that does not answer delays no VM by more than
        /// <see cref="CommitWait"/>; the run goes on with a warning (a crashed orchestrator still loses nothing).
        /// </summary>
        /// <summary>Waits, at most <see cref="CommitWait"/>, until the status changes made so far are written (not flushed).</summary>
        private async Task WrittenAsync(CancellationToken cancellationToken)
        {
            try
            {
                await Context.Status.Written.WaitAsync(CommitWait, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or IOException)
            {
                // The write goes on in the background; a run never waits on the disk longer than this.
            }
        }

        private async Task MakeDurableAsync(CancellationToken cancellationToken)
        {
            try
            {
                await Context.Status.Written.WaitAsync(CommitWait, cancellationToken).ConfigureAwait(false);
                await GroupCommit.Shared.CommitAsync(Dir.Files).WaitAsync(CommitWait, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or IOException)
            {
                _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.Unexpected, CastraErrorCategory.WriteError,
                    $"{Vm.Name}: its shutdown record could not be made durable ({(ex is TimeoutException ? $"the disk did not answer within {CommitWait.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : ex.Message)}); going on");
            }
        }

        private Task<StepResult> StepAsync(PlanStep step, CancellationToken cancellationToken)
        {
            if (step.Phase is { } phase && phase != _phase)
            {
                Enter(phase);
            }

            return step.RunAsync(Context, cancellationToken);
        }

        /// <summary>
        /// Every phase after Requested waits on something outside Castra (sessions, hooks, the guest, a signal), so
        /// entering one ends the VM's start-up and frees its slot. shutdown.json follows on the state I/O threads.
        /// </summary>
        private void Enter(ShutdownPhase phase)
        {
            _owner._startup.Release();
            _phase = phase;
            _ = Context.Status.Phase(phase);
        }

        /// <summary>On the state I/O threads: the status it takes over (if any), vm.json, the journal, the run's status document and recorder.</summary>
        public void Prepare()
        {
            StateIo.EnsureHere("Preparing a run");
            StatusDocument? previous = null;
            try
            {
                previous = StatusStore.TryRead(Dir);
            }
            catch (InvalidDataException ex)
            {
                // A damaged status file is replaced; say so, it may hide an interrupted shutdown.
                _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.StatusUnreadable, CastraErrorCategory.InvalidData,
                    $"{Vm.Name}: {ex.Message}; ignored and replaced (an earlier shutdown it recorded cannot be taken over)");
            }

            try
            {
                _definition = VmDefinitionStore.TryRead(Dir);
            }
            catch (CastraException ex)
            {
                _owner.Diagnose(DiagnosticSeverity.Warning, ex.ErrorId, ex.Category, $"{ex.Message}; using the call's options and Castra's defaults");
            }

            _timeouts = ShutdownTimeouts.Resolve(Options, _definition);

            EventJournal? journal = null;
            try
            {
                journal = EventJournal.OpenForAppend(Dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _owner.Diagnose(DiagnosticSeverity.Warning, ex is UnsafeStateFileException ? ErrorIds.UnsafeStateFile : ErrorIds.Unexpected, CastraErrorCategory.WriteError,
                    $"{Vm.Name}: could not open {Vm.Journal} ({ex.Message}); events are still reported here but not journaled");
            }

            var shutdownId = NewShutdownId();
            var now = DateTime.UtcNow;
            var takeover = _takeover = previous?.IsIncomplete() == true ? previous : null;
            var document = new StatusDocument
            {
                VmName = Vm.Name,
                ShutdownId = shutdownId,
                Phase = ContractNames.Of(ShutdownPhase.Requested),
                Reason = ContractNames.Of(Options.Reason),
                Message = Options.Message,
                Force = Options.Force,
                Method = Options.Method.ToString(),
                StartedAt = now,

                // Until the plan is built (milliseconds later): the stages' budgets.
                Deadline = now + _timeouts.WorstCase(Options.Force),
                OwnerPid = OwnerProcess.Pid,
                OwnerHost = Environment.MachineName,
                OwnerStartTime = OwnerProcess.StartTime,
                JournalOffset = journal?.Length ?? 0,
                CooperativeTimeoutMs = Ms(_timeouts.Cooperative),
                TermTimeoutMs = Ms(_timeouts.Term),
                KillTimeoutMs = Ms(_timeouts.Kill),
                TakeoverOf = takeover?.ShutdownId,
            };

            // Not written yet: its first write carries the plan too (milliseconds later, before anything acts on the VM).
            var status = new StatusTracker(Dir, document, _owner._observer);
            _prepared = new RunContext(Dir, Options, _timeouts, new EventRecorder(Vm, shutdownId, journal, _owner._observer), status, _owner._observer) { Definition = _definition };

            if (takeover is not null)
            {
                // Ending the interrupted run's hooks can take seconds: meanwhile, this run is the one on record.
                _ = status.Update(_ => { });
                try
                {
                    Dir.Files.RemoveTemporariesOf(takeover.OwnerPid);
                }
                catch (IOException)
                {
                    // Leftover temporary files are harmless; they only take space.
                }

                // A save the owner did not finish: its partial image is as large as the guest's memory and never used.
                SavedStateStore.Abandon(Dir);

                _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.ShutdownInterruptedTakeover, CastraErrorCategory.ResourceUnavailable,
                    $"{Vm.Name}: shutdown {takeover.ShutdownId} (owner PID {takeover.OwnerPid}) was interrupted in phase {takeover.Phase}; taking over");
            }
        }

        /// <summary>Hooks the interrupted run left running are ended before anything runs again (no second copy).</summary>
        private async Task EndInterruptedHooksAsync(CancellationToken cancellationToken)
        {
            if (_takeover?.HookGroups is not { Count: > 0 })
            {
                return;
            }

            foreach (var ended in await InterruptedHooks.EndAsync(_takeover, Dir, cancellationToken).ConfigureAwait(false))
            {
                _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.ShutdownInterruptedTakeover, CastraErrorCategory.ResourceUnavailable,
                    $"{Vm.Name}: ended {ended}, left running when that shutdown was interrupted");
            }
        }

        private string SurvivedKill(TrackedProcess process)
        {
            var stat = ProcStat.TryRead(process.Pid);
            var state = stat is null ? "unknown" : stat.State switch
            {
                'D' => "D: uninterruptible sleep, usually stuck in the kernel on I/O (a hung NFS or disk)",
                'T' or 't' => $"{stat.State}: stopped or traced by a debugger",
                _ => stat.State.ToString(),
            };
            return Context.SignalFailure is not null
                ? $"QEMU (PID {process.Pid}) is still running: {Context.SignalFailure}"
                : $"QEMU (PID {process.Pid}) was still running {_timeouts.Kill.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s after SIGKILL (state {state})";
        }

        /// <summary>Writes the last event, status, journal flush and audit line in one hop to the state I/O threads (see <see cref="StateIo"/>).</summary>
        private Task<VmShutdownResult> FinishAsync(ShutdownOutcome outcome, string? detail, string? errorId = null) =>
            StateIo.Shared.RunAsync(() => Finish(outcome, detail, errorId));

        private VmShutdownResult Finish(ShutdownOutcome outcome, string? detail, string? errorId = null)
        {
            if (_leftoversOf is { } pid)
            {
                LeftoverFiles.RemoveFor(Dir, pid);
            }

            // Not when the pidfile named a process we could not prove is ours: that might still be the VM, using its disk.
            if (outcome is ShutdownOutcome.Graceful or ShutdownOutcome.Forced && !_identityUncertain)
            {
                LeftoverFiles.RemoveEphemeralOverlay(Dir, _definition);
            }

            var totalMs = Ms(Stopwatch.GetElapsedTime(_startedAt));
            var hooks = Context.Hooks;

            // Stamped first, so that the snapshot holds the very ShutdownComplete that is then emitted; shutdown.json
            // says Complete only once the event is journaled.
            var complete = Context.Recorder.Stamp(new ShutdownCompleteEvent
            {
                Outcome = ContractNames.Of(outcome),
                TotalMs = totalMs,
                Changed = Context.Changed,
                HooksSucceeded = hooks.Succeeded,
                HooksFailed = hooks.Failed,
                HooksTimedOut = hooks.TimedOut,
                SessionsInterrupted = Context.SessionsInterrupted,
                QemuFound = _found is { } found ? ContractNames.Of(found) : null,
                Detail = detail,
            });
            if (Options.SaveState)
            {
                complete = SaveSnapshot(complete, outcome);
            }

            complete = Context.Recorder.EmitStamped(complete);
            Context.Status.CompleteHere(outcome, Context.Changed, totalMs, detail, complete.Timestamp, complete.SaveStatePath);
            CastraMetrics.RecordShutdown(Vm.Name, complete.Outcome, totalMs);
            Audit(complete);
            return new VmShutdownResult(Vm.Name, outcome, Context.Changed, totalMs, errorId, detail);
        }

        /// <summary>
        /// Writes the -SaveState snapshot before <paramref name="complete"/> (stamped, not yet emitted) goes out, with
        /// that event last and the status as it will be once complete. Returns the event with SaveStatePath set, or
        /// unchanged (SaveStatePath absent) when the snapshot could not be written.
        /// </summary>
        private ShutdownCompleteEvent SaveSnapshot(ShutdownCompleteEvent complete, ShutdownOutcome outcome)
        {
            try
            {
                var path = ShutdownSnapshot.PathFor(Vm, Context.ShutdownId);
                var final = complete with { SaveStatePath = path };
                var status = Context.Status.CompletedCopy(outcome, final.Changed, final.TotalMs, final.Detail, final.Timestamp, path);
                ShutdownSnapshot.Write(Dir, status, [.. Context.Recorder.History, final], Context.Hooks.Results);
                return final;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.Unexpected, CastraErrorCategory.WriteError, $"{Vm.Name}: could not write the -SaveState snapshot ({ex.Message})");
                return complete;
            }
        }

        private void Audit(ShutdownCompleteEvent complete)
        {
            var doc = Context.Status.Document;
            try
            {
                AuditTrail.Append(Dir.Root, Vm.Root.AuditFile, new AuditRecord
                {
                    Timestamp = complete.Timestamp,
                    VmName = Vm.Name,
                    ShutdownId = doc.ShutdownId,
                    Reason = doc.Reason,
                    Message = doc.Message,
                    User = Environment.UserName,
                    Host = Environment.MachineName,
                    Pid = OwnerProcess.Pid,
                    StartedAt = doc.StartedAt,
                    Outcome = complete.Outcome,
                    TotalMs = complete.TotalMs,
                    Changed = complete.Changed,
                    Force = doc.Force,
                    Path = AuditTrail.PathOf(Context.Recorder.History),
                    HooksSucceeded = complete.HooksSucceeded,
                    HooksFailed = complete.HooksFailed,
                    HooksTimedOut = complete.HooksTimedOut,
                    SessionsInterrupted = complete.SessionsInterrupted,
                    QemuFound = complete.QemuFound,
                    Detail = complete.Detail,
                });
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.Unexpected, CastraErrorCategory.WriteError, $"{Vm.Name}: could not append to {Vm.Root.AuditFile} ({ex.Message})");
            }
        }

        public void Dispose() => _prepared?.Recorder.Dispose();

        private static string NewShutdownId() =>
            $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 4).ToLowerInvariant()}";
    }
}

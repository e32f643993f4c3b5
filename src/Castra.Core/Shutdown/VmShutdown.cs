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

    public VmShutdown(VmPaths vm, ShutdownOptions options, IShutdownObserver observer, StartupSlot startup)
    {
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
            dir = await StateIo.Shared.RunAsync(() => VmDirectory.TryOpen(_vm)).ConfigureAwait(false);
            if (dir is null)
            {
                var message = $"No VM named '{_vm.Name}' under {_vm.Root.Path} ({_vm.Directory} does not exist).";
                Diagnose(DiagnosticSeverity.Error, ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, message);
                return new VmShutdownResult(_vm.Name, null, false, 0, ErrorIds.VmNotFound, message);
            }

            var vmLock = await StateIo.Shared.RunAsync(() => VmLock.TryAcquire(dir)).ConfigureAwait(false);
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
                using var run = new Run(this, dir);
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

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    /// <summary>The state of one orchestrated run (lock held).</summary>
    private sealed class Run : IDisposable
    {
        private readonly VmShutdown _owner;
        private readonly long _startedAt = Stopwatch.GetTimestamp();
        private StatusTracker _status = null!;
        private EventRecorder _recorder = null!;
        private ShutdownTimeouts _timeouts = ShutdownTimeouts.Defaults;
        private bool _changed;
        private bool _identityUncertain;
        private string? _signalFailure;
        private ShutdownPhase _phase = ShutdownPhase.Requested;
        private readonly HookStageSummary _hooks = new();
        private int _sessionsInterrupted;

        public Run(VmShutdown owner, VmDirectory dir)
        {
            _owner = owner;
            Dir = dir;
        }

        private VmPaths Vm => _owner._vm;

        private VmDirectory Dir { get; }

        private ShutdownOptions Options => _owner._options;

        public async Task<VmShutdownResult> ExecuteAsync(CancellationToken cancellationToken)
        {
            await StateIo.Shared.RunAsync(Prepare).ConfigureAwait(false);
            TrackedProcess? process = null;
            try
            {
                _recorder.Emit(new ShutdownRequestedEvent { Reason = ContractNames.Of(Options.Reason), Message = Options.Message });
                await EndInterruptedHooksAsync(cancellationToken).ConfigureAwait(false);
                await DrainSessionsAsync(cancellationToken).ConfigureAwait(false);

                var located = await ProcessLocator.LocateAsync(Dir, _definition, Options.UsePidfd, cancellationToken).ConfigureAwait(false);
                _status.Document.QemuPid = located.Pid;
                _found = located.Verdict switch
                {
                    null => QemuFound.NotRunning,
                    IdentityVerdict.Exited => QemuFound.Exited,
                    IdentityVerdict.NotOurs => QemuFound.Stale,
                    IdentityVerdict.Disputed => QemuFound.Disputed,
                    _ => QemuFound.Running,
                };
                switch (located.Verdict)
                {
                    case null:
                        return await FinishAsync(ShutdownOutcome.Graceful, located.Detail).ConfigureAwait(false);
                    case IdentityVerdict.Exited:
                        // QEMU died without a shutdown (crashed, or powered off by itself): what its PostStop hooks
                        // release was never released. No PreStop hooks: there is no guest left to prepare.
                        LeftoverFiles.RemoveFor(Dir, located.Pid);
                        await PostStopAfterExitAsync(cancellationToken).ConfigureAwait(false);
                        return await FinishAsync(ShutdownOutcome.Graceful, located.Detail + "; its leftover pidfile and sockets were removed").ConfigureAwait(false);
                    case IdentityVerdict.NotOurs:
                        var detail = located.Detail + "; the stale pidfile was removed and nothing was signalled";
                        _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.StalePidFile, CastraErrorCategory.InvalidData, $"{Vm.Name}: {detail}");
                        LeftoverFiles.RemovePidFile(Dir);
                        _identityUncertain = true;
                        return await FinishAsync(ShutdownOutcome.Graceful, detail).ConfigureAwait(false);
                    case IdentityVerdict.Disputed:
                        // The proofs disagree: signalling might hit an unrelated process, doing nothing might leave the VM
                        // running. Neither is Castra's call: fail loudly, touch nothing.
                        var disputed = $"{located.Detail}; nothing was signalled: {Remediation.IdentityDisputed(Vm, located.Pid)}";
                        _owner.Diagnose(DiagnosticSeverity.Error, ErrorIds.IdentityDisputed, CastraErrorCategory.SecurityError, $"{Vm.Name}: {disputed}");
                        _identityUncertain = true;
                        return await FinishAsync(ShutdownOutcome.Failed, disputed, ErrorIds.IdentityDisputed).ConfigureAwait(false);
                }

                process = located.Process!;
                _owner.Diagnose(DiagnosticSeverity.Trace, ErrorIds.Trace, CastraErrorCategory.NotSpecified, $"{Vm.Name}: QEMU PID {located.Pid} is the VM's: {located.Detail}");
                if (located.StalePidFile is { } stale)
                {
                    _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.StalePidFile, CastraErrorCategory.InvalidData,
                        $"{Vm.Name}: {stale}; {located.Detail}, which is stopped instead");
                }

                var (preStop, postStop) = await StateIo.Shared.RunAsync(() => LoadHooks(qemuRunning: true)).ConfigureAwait(false);
                if (preStop is null)
                {
                    return await FinishAsync(ShutdownOutcome.Failed, _hookLoadFailure, ErrorIds.InvalidHook).ConfigureAwait(false);
                }

                _owner.Diagnose(DiagnosticSeverity.Trace, ErrorIds.Trace, CastraErrorCategory.NotSpecified,
                    $"{Vm.Name}: {Count(preStop.Count, "PreStop hook")} and {Count(postStop!.Count, "PostStop hook")} to run" +
                    (preStop.Count + postStop.Count == 0 ? "" : $" ({string.Join(", ", preStop.Concat(postStop).Select(h => h.Describe()))})"));

                if (preStop.Count > 0)
                {
                    await EnterAsync(ShutdownPhase.PreStopHooks).ConfigureAwait(false);
                    await RunHooksAsync(preStop, HookStage.PreStop, cancellationToken).ConfigureAwait(false);
                    if (_hooks.AbortedBy is { } failed)
                    {
                        var why = $"PreStop hook '{failed.Hook.Name}' {(failed.Status == HookStatus.TimedOut ? "timed out" : "failed")}: {failed.Message}; " +
                            "the shutdown was aborted before anything was sent to the guest, and the VM keeps running (HookErrorAction Stop)";
                        _owner.Diagnose(DiagnosticSeverity.Error, ErrorIds.HookFailed, CastraErrorCategory.OperationStopped, $"{Vm.Name}: {why}");
                        return await FinishAsync(ShutdownOutcome.Failed, why, ErrorIds.HookFailed).ConfigureAwait(false);
                    }
                }

                if (await CooperateAsync(process, cancellationToken).ConfigureAwait(false))
                {
                    return await StoppedAsync(ShutdownOutcome.Graceful, process, postStop!, cancellationToken).ConfigureAwait(false);
                }

                await EnterAsync(ShutdownPhase.Terminating).ConfigureAwait(false);
                if (await SignalAndWaitAsync(process, Libc.SIGTERM, ContractNames.SigTerm, _timeouts.Term, cancellationToken).ConfigureAwait(false))
                {
                    return await StoppedAsync(ShutdownOutcome.Forced, process, postStop!, cancellationToken).ConfigureAwait(false);
                }

                await EnterAsync(ShutdownPhase.Killing).ConfigureAwait(false);
                if (await SignalAndWaitAsync(process, Libc.SIGKILL, ContractNames.SigKill, _timeouts.Kill, cancellationToken).ConfigureAwait(false))
                {
                    return await StoppedAsync(ShutdownOutcome.Forced, process, postStop!, cancellationToken).ConfigureAwait(false);
                }

                var failure = SurvivedKill(process);
                _owner.Diagnose(DiagnosticSeverity.Error, ErrorIds.StopFailed, CastraErrorCategory.OperationTimeout, $"{Vm.Name}: {failure}");
                return await FinishAsync(ShutdownOutcome.Failed, failure, ErrorIds.StopFailed).ConfigureAwait(false);
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
                process?.Dispose();
            }
        }

        private VmDefinition? _definition;

        /// <summary>What the run found of the VM's QEMU, once it looked.</summary>
        private QemuFound? _found;

        /// <summary>The interrupted shutdown this run takes over, if any.</summary>
        private StatusDocument? _takeover;

        private void Prepare()
        {
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

            _status = new StatusTracker(Dir, document, _owner._observer);
            _status.Save();
            _recorder = new EventRecorder(Vm, shutdownId, journal, _owner._observer);

            if (takeover is not null)
            {
                _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.ShutdownInterruptedTakeover, CastraErrorCategory.ResourceUnavailable,
                    $"{Vm.Name}: shutdown {takeover.ShutdownId} (owner PID {takeover.OwnerPid}) was interrupted in phase {takeover.Phase}; taking over");
            }
        }

        private string? _hookLoadFailure;

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

        /// <summary>Castra's own first step: interrupt the VM's guest sessions (no events when there are none).</summary>
        private async Task DrainSessionsAsync(CancellationToken cancellationToken)
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
                return;
            }

            if (sessions.Count == 0)
            {
                return;
            }

            await EnterAsync(ShutdownPhase.DrainingSessions).ConfigureAwait(false);
            _status.Update(d => d.Deadline += SessionDrainer.Budget(Options.DrainTimeout));
            _sessionsInterrupted = await SessionDrainer.DrainAsync(Dir, sessions, Options.DrainTimeout, _recorder, cancellationToken).ConfigureAwait(false);
            _status.Update(d => d.SessionsInterrupted = _sessionsInterrupted);
        }

        /// <summary>
        /// The VM's PreStop (none with -Force, or when QEMU has already exited) and PostStop hooks. An unreadable
        /// hooks.json is a warning and no hooks under Continue; under Stop it aborts (PreStop null) when QEMU is
        /// running, since the hooks it may hold were asked to guard the stop. Once QEMU has exited there is no stop
        /// left to guard: a warning, whatever the HookErrorAction.
        /// </summary>
        private (IReadOnlyList<CleanupHook>? PreStop, IReadOnlyList<CleanupHook>? PostStop) LoadHooks(bool qemuRunning)
        {
            IReadOnlyList<CleanupHook> pre, post;
            try
            {
                var load = new HookStore(Vm.Root).Load();
                foreach (var ignored in load.Ignored)
                {
                    _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.InvalidHook, CastraErrorCategory.InvalidData, $"{Vm.Name}: {Vm.Root.HooksFile}: {ignored}");
                }

                pre = Options.Force || !qemuRunning ? [] : HookStore.ForVm(load.File.Hooks, Vm.Name, HookStage.PreStop);
                post = HookStore.ForVm(load.File.Hooks, Vm.Name, HookStage.PostStop);
            }
            catch (CastraException ex)
            {
                if (qemuRunning && Options.HookErrorAction == HookErrorAction.Stop)
                {
                    _hookLoadFailure = $"{ex.Message}; the shutdown was aborted before anything was sent to the guest (HookErrorAction Stop)";
                    _owner.Diagnose(DiagnosticSeverity.Error, ex.ErrorId, ex.Category, $"{Vm.Name}: {_hookLoadFailure}");
                    return (null, null);
                }

                _owner.Diagnose(DiagnosticSeverity.Warning, ex.ErrorId, ex.Category, $"{Vm.Name}: {ex.Message}; no hooks run for this shutdown");
                return ([], []);
            }

            // Without hooks the document would not change: rewriting it would cost a file, an fsync and a rename for nothing.
            if (pre.Count + post.Count > 0)
            {
                _status.Update(d =>
                {
                    d.HooksTotal = pre.Count + post.Count;
                    d.Deadline += HookBudget.Of(pre) + HookBudget.Of(post);
                });
            }

            return (pre, post);
        }

        /// <summary>The pidfile named a QEMU that had already exited (leftovers removed): run the VM's PostStop hooks.</summary>
        private async Task PostStopAfterExitAsync(CancellationToken cancellationToken)
        {
            var (_, postStop) = await StateIo.Shared.RunAsync(() => LoadHooks(qemuRunning: false)).ConfigureAwait(false);
            if (postStop is { Count: > 0 })
            {
                await EnterAsync(ShutdownPhase.PostStopHooks).ConfigureAwait(false);
                await RunHooksAsync(postStop, HookStage.PostStop, cancellationToken).ConfigureAwait(false);
            }
        }

        private Task RunHooksAsync(IReadOnlyList<CleanupHook> hooks, HookStage stage, CancellationToken cancellationToken) =>
            new HookStageRunner(_recorder, _status).RunAsync(
                hooks, new HookContext(Dir, stage, ContractNames.Of(Options.Reason), _status.Document.ShutdownId), Options.HookErrorAction, _hooks, cancellationToken);

        /// <summary>The QEMU process is gone: clean its leftovers, run the PostStop hooks, complete.</summary>
        private async Task<VmShutdownResult> StoppedAsync(ShutdownOutcome outcome, TrackedProcess process, IReadOnlyList<CleanupHook> postStop, CancellationToken cancellationToken)
        {
            await StateIo.Shared.RunAsync(() => LeftoverFiles.RemoveFor(Dir, process.Pid)).ConfigureAwait(false);
            if (postStop.Count > 0)
            {
                await EnterAsync(ShutdownPhase.PostStopHooks).ConfigureAwait(false);
                await RunHooksAsync(postStop, HookStage.PostStop, cancellationToken).ConfigureAwait(false);
            }

            return await FinishAsync(outcome, null).ConfigureAwait(false);
        }

        /// <summary>True when the guest powered itself off within the window.</summary>
        private async Task<bool> CooperateAsync(TrackedProcess process, CancellationToken cancellationToken)
        {
            await EnterAsync(ShutdownPhase.Cooperative).ConfigureAwait(false);
            var step = new CooperativeStep(Dir, Options, _timeouts.Cooperative, _recorder);
            try
            {
                return await step.RunAsync(process, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _changed |= step.Delivered;
            }
        }

        /// <summary>True when the process is gone within <paramref name="wait"/> after the signal.</summary>
        private async Task<bool> SignalAndWaitAsync(TrackedProcess process, int signal, string signalName, TimeSpan wait, CancellationToken cancellationToken)
        {
            _recorder.Emit(new EscalationEvent { Signal = signalName, WaitMs = Ms(wait) });
            switch (process.Signal(signal, out var errno))
            {
                case SignalResult.Sent:
                    _changed = true;
                    break;
                case SignalResult.AlreadyExited:
                case SignalResult.IdentityChanged:
                    return true;
                case SignalResult.Failed:
                    // Waiting would only burn the budget: nothing was delivered.
                    _signalFailure = $"could not send {signalName} to PID {process.Pid}: {Libc.ErrorText(errno)} (run Castra as the user that owns QEMU, or as root)";
                    _owner.Diagnose(DiagnosticSeverity.Warning, ErrorIds.StopFailed, CastraErrorCategory.PermissionDenied, $"{Vm.Name}: {_signalFailure}");
                    return process.HasExited;
            }

            return await process.WaitForExitAsync(wait, cancellationToken).ConfigureAwait(false);
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
            return _signalFailure is not null
                ? $"QEMU (PID {process.Pid}) is still running: {_signalFailure}"
                : $"QEMU (PID {process.Pid}) was still running {Seconds(_timeouts.Kill)} after SIGKILL (state {state})";
        }

        /// <summary>
        /// Every phase after Requested waits on something outside Castra (sessions, hooks, the guest, a signal), so
        /// entering one ends the VM's start-up and frees its slot. The status file is replaced durably (fsync,
        /// rename) on Castra's state I/O threads, never on the thread pool.
        /// </summary>
        private Task EnterAsync(ShutdownPhase phase)
        {
            _owner._startup.Release();
            _phase = phase;
            return StateIo.Shared.RunAsync(() => _status.Phase(phase));
        }

        /// <summary>Writes the last event, status, journal fsync and audit line on the state I/O threads (see <see cref="StateIo"/>).</summary>
        private Task<VmShutdownResult> FinishAsync(ShutdownOutcome outcome, string? detail, string? errorId = null) =>
            StateIo.Shared.RunAsync(() => Finish(outcome, detail, errorId));

        private VmShutdownResult Finish(ShutdownOutcome outcome, string? detail, string? errorId = null)
        {
            // Not when the pidfile named a process we could not prove is ours: that might still be the VM, using its disk.
            if (outcome is ShutdownOutcome.Graceful or ShutdownOutcome.Forced && !_identityUncertain)
            {
                LeftoverFiles.RemoveEphemeralOverlay(Dir, _definition);
            }

            var totalMs = Ms(Stopwatch.GetElapsedTime(_startedAt));

            // Stamped first, so that the snapshot holds the very ShutdownComplete that is then emitted; shutdown.json
            // says Complete only once the event is journaled.
            var complete = _recorder.Stamp(new ShutdownCompleteEvent
            {
                Outcome = ContractNames.Of(outcome),
                TotalMs = totalMs,
                Changed = _changed,
                HooksSucceeded = _hooks.Succeeded,
                HooksFailed = _hooks.Failed,
                HooksTimedOut = _hooks.TimedOut,
                SessionsInterrupted = _sessionsInterrupted,
                QemuFound = _found is { } found ? ContractNames.Of(found) : null,
                Detail = detail,
            });
            if (Options.SaveState)
            {
                complete = SaveSnapshot(complete, outcome);
            }

            complete = _recorder.EmitStamped(complete);
            _status.Complete(outcome, _changed, totalMs, detail, complete.Timestamp, complete.SaveStatePath);
            CastraMetrics.RecordShutdown(Vm.Name, complete.Outcome, totalMs);
            Audit(complete);
            return new VmShutdownResult(Vm.Name, outcome, _changed, totalMs, errorId, detail);
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
                var path = ShutdownSnapshot.PathFor(Vm, _status.Document.ShutdownId);
                var final = complete with { SaveStatePath = path };
                var status = _status.CompletedCopy(outcome, final.Changed, final.TotalMs, final.Detail, final.Timestamp, path);
                ShutdownSnapshot.Write(Dir, status, [.. _recorder.History, final], _hooks.Results);
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
            var doc = _status.Document;
            try
            {
                AuditTrail.Append(Vm.Root, new AuditRecord
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
                    Path = AuditTrail.PathOf(_recorder.History),
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

        public void Dispose() => _recorder?.Dispose();

        private static TimeSpan Remaining(TimeSpan window, long since)
        {
            var left = window - Stopwatch.GetElapsedTime(since);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }

        private static string NewShutdownId() =>
            $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 4).ToLowerInvariant()}";
    }
}

using Castra.Errors;
using Castra.Events;
using Castra.State;

namespace Castra.Shutdown.Plan;

/// <summary>
/// Saves the guest's whole state to the VM's image and ends QEMU (<see cref="StateSaver"/>). As an escalation step
/// (after the cooperative step, before SIGTERM) a failure lets the ladder go on; as the whole stop (-Save, --save)
/// a failure ends the run Failed with the guest running again. Its budget is the save timeout plus the cleanup grace.
/// </summary>
internal sealed record SaveStep(TimeSpan Timeout, bool Escalation) : PlanStep
{
    public override StepSection Section => StepSection.Stop;

    public override ShutdownPhase? Phase => ShutdownPhase.Saving;

    public override TimeSpan Budget => Timeout + StateSaver.CleanupGrace;

    public override string Describe() => $"save to {SavedStateStore.ImageName} (≤{EventText.Seconds(Ms(Timeout))})";

    public override async Task<StepResult> RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var process = run.Process!;
        var path = run.Dir.Files.PathOf(SavedStateStore.ImageName);
        run.Recorder.Emit(new SaveAttemptedEvent { TimeoutMs = Ms(Timeout), Path = path });
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = await StateSaver.RunAsync(run, process, Timeout, cancellationToken).ConfigureAwait(false);
        var elapsed = Ms(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        run.Changed |= outcome.Changed;
        if (outcome.Saved)
        {
            run.StateSaved = true;
            run.Recorder.Emit(new SaveSucceededEvent { DurationMs = elapsed, SizeBytes = outcome.SizeBytes, Path = path });

            // QEMU that did not exit after quit is ended by the signals that follow; the state is saved either way.
            return outcome.Exited || process.HasExited ? StepResult.Stopped(ShutdownOutcome.Saved) : StepResult.Continue;
        }

        run.Recorder.Emit(new SaveFailedEvent
        {
            Reason = ContractNames.Of(outcome.Reason!.Value),
            Detail = outcome.Detail,
            DurationMs = elapsed,
            GuestResumed = outcome.GuestResumed,
        });
        if (Escalation)
        {
            return process.HasExited ? StepResult.Stopped(ShutdownOutcome.Forced) : StepResult.Continue;
        }

        var reason = outcome.Reason!.Value;
        var errorId = reason == SaveFailureReason.NotResumable ? ErrorIds.SaveNotResumable : ErrorIds.SaveFailed;
        var detail = $"the state could not be saved ({ContractNames.Of(reason)}: {outcome.Detail}); the VM was left running";
        run.Diagnose(DiagnosticSeverity.Error, errorId, CategoryOf(reason), $"{run.Vm.Name}: {detail}");
        return StepResult.Fail(detail, errorId);
    }

    private static CastraErrorCategory CategoryOf(SaveFailureReason reason) => reason switch
    {
        SaveFailureReason.TimeoutExpired => CastraErrorCategory.OperationTimeout,
        SaveFailureReason.WriteError => CastraErrorCategory.WriteError,
        SaveFailureReason.ChannelError => CastraErrorCategory.ConnectionError,
        SaveFailureReason.NotResumable => CastraErrorCategory.InvalidOperation,
        _ => CastraErrorCategory.OperationStopped,
    };
}

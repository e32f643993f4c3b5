using Castra.Errors;
using Castra.Events;
using Castra.Native;
using Castra.Processes;

namespace Castra.Shutdown.Plan;

/// <summary>Sends a signal to the proven QEMU (through its pidfd) and waits for it to exit.</summary>
internal sealed record SignalStep(ProcessSignal Signal, TimeSpan Wait) : PlanStep
{
    public override StepSection Section => StepSection.Stop;

    public override ShutdownPhase? Phase => Signal == ProcessSignal.Term ? ShutdownPhase.Terminating : ShutdownPhase.Killing;

    public override TimeSpan Budget => Wait;

    public override string Describe() => $"{Signal.ContractName()} (≤{EventText.Seconds(Ms(Wait))})";

    public override async Task<StepResult> RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var process = run.Process!;
        var name = Signal.ContractName();
        run.Recorder.Emit(new EscalationEvent { Signal = name, WaitMs = Ms(Wait) });
        switch (process.Signal(Signal.Number(), out var errno))
        {
            case SignalResult.Sent:
                run.Changed = true;
                break;
            case SignalResult.AlreadyExited:
            case SignalResult.IdentityChanged:
                return StepResult.Stopped(ShutdownOutcome.Forced);
            case SignalResult.Failed:
                // Waiting would only burn the budget: nothing was delivered.
                run.SignalFailure = $"could not send {name} to PID {process.Pid}: {Libc.ErrorText(errno)} (run Castra as the user that owns QEMU, or as root)";
                run.Diagnose(DiagnosticSeverity.Warning, ErrorIds.StopFailed, CastraErrorCategory.PermissionDenied, $"{run.Vm.Name}: {run.SignalFailure}");
                return process.HasExited ? StepResult.Stopped(ShutdownOutcome.Forced) : StepResult.Continue;
        }

        return await process.WaitForExitAsync(Wait, cancellationToken).ConfigureAwait(false) ? StepResult.Stopped(ShutdownOutcome.Forced) : StepResult.Continue;
    }
}

using Castra.Events;
using Castra.Sessions;

namespace Castra.Shutdown.Plan;

/// <summary>Castra's own first step: the VM's guest sessions get SIGINT, then SIGTERM and SIGKILL (castra.drain-sessions).</summary>
internal sealed record DrainSessionsStep(IReadOnlyList<VmSession> Sessions, TimeSpan DrainTimeout) : PlanStep
{
    public override StepSection Section => StepSection.Prepare;

    public override ShutdownPhase? Phase => ShutdownPhase.DrainingSessions;

    public override TimeSpan Budget => SessionDrainer.Budget(DrainTimeout);

    public override string Describe() => $"{SessionDrainer.StepName} ({Sessions.Count} session(s), ≤{EventText.Seconds(Ms(Budget))})";

    public override async Task<StepResult> RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        run.SessionsInterrupted = await SessionDrainer.DrainAsync(run.Dir, Sessions, DrainTimeout, run.Recorder, cancellationToken).ConfigureAwait(false);
        _ = run.Status.Update(d => d.SessionsInterrupted = run.SessionsInterrupted);
        return StepResult.Continue;
    }
}

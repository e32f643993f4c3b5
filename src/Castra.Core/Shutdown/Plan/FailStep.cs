using Castra.Errors;

namespace Castra.Shutdown.Plan;

/// <summary>
/// The run fails here, touching nothing further: the proofs of the VM's QEMU disagree, or the hooks that were to
/// guard the stop cannot be read under HookErrorAction Stop. After the session drain, as before any other step.
/// </summary>
internal sealed record FailStep(string Detail, string ErrorId, CastraErrorCategory Category) : PlanStep
{
    public override StepSection Section => StepSection.Prepare;

    public override ShutdownPhase? Phase => null;

    public override TimeSpan Budget => TimeSpan.Zero;

    public override string? Describe() => null;

    public override Task<StepResult> RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        run.Diagnose(DiagnosticSeverity.Error, ErrorId, Category, $"{run.Vm.Name}: {Detail}");
        return Task.FromResult(StepResult.Fail(Detail, ErrorId));
    }
}

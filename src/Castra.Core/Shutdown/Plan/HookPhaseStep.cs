using Castra.Errors;
using Castra.Hooks;
using Castra.Processes;

namespace Castra.Shutdown.Plan;

/// <summary>The hooks of one stage and priority, run concurrently; priorities are steps of their own, in ascending order.</summary>
internal sealed record HookPhaseStep(HookStage Stage, int Priority, IReadOnlyList<CleanupHook> Hooks) : PlanStep
{
    public override StepSection Section => Stage == HookStage.PreStop ? StepSection.Prepare : StepSection.Release;

    public override ShutdownPhase? Phase => Stage == HookStage.PreStop ? ShutdownPhase.PreStopHooks : ShutdownPhase.PostStopHooks;

    /// <summary>The longest hook's timeout, then the grace of SIGTERM and of SIGKILL to its group.</summary>
    public override TimeSpan Budget => TimeSpan.FromMilliseconds(Hooks.Max(h => h.TimeoutMs)) + GroupLeader.Grace + GroupLeader.Grace;

    public override string Describe() => string.Join("; ", Hooks.Select(h => h.Describe()));

    public override async Task<StepResult> RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var context = new HookContext(run.Dir, Stage, ContractNames.Of(run.Options.Reason), run.ShutdownId);
        var failed = await new HookStageRunner(run.Recorder, run.Status).RunPriorityAsync(Hooks, context, run.Options.HookErrorAction, run.Hooks, cancellationToken).ConfigureAwait(false);
        if (failed is null)
        {
            return StepResult.Continue;
        }

        var why = $"PreStop hook '{failed.Hook.Name}' {(failed.Status == HookStatus.TimedOut ? "timed out" : "failed")}: {failed.Message}; " +
            "the shutdown was aborted before anything was sent to the guest, and the VM keeps running (HookErrorAction Stop)";
        run.Diagnose(DiagnosticSeverity.Error, ErrorIds.HookFailed, CastraErrorCategory.OperationStopped, $"{run.Vm.Name}: {why}");
        return StepResult.Fail(why, ErrorIds.HookFailed);
    }
}

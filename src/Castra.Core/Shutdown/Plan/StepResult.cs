using Castra.Errors;

namespace Castra.Shutdown.Plan;

/// <summary>What one step did: go on, QEMU is gone (with the outcome it earns), or the run fails here.</summary>
internal readonly record struct StepResult(StepResultKind Kind, ShutdownOutcome Outcome = ShutdownOutcome.Graceful, string? Detail = null, string? ErrorId = null)
{
    public static StepResult Continue => new(StepResultKind.Continue);

    public static StepResult Stopped(ShutdownOutcome outcome) => new(StepResultKind.Stopped, outcome);

    public static StepResult Fail(string detail, string errorId) => new(StepResultKind.Failed, ShutdownOutcome.Failed, detail, errorId);
}

internal enum StepResultKind
{
    Continue,
    Stopped,
    Failed,
}

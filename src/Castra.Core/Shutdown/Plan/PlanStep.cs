namespace Castra.Shutdown.Plan;

/// <summary>
/// One step of a VM's shutdown plan: what it is, its budget, how -WhatIf and --dry-run describe it, and how it runs.
/// The plan is the program: the executor runs these in order, and every preview, the worst case, the -Deadline check
/// and the status deadline read the same list. A new phase is one more step type.
/// </summary>
internal abstract record PlanStep
{
    public abstract StepSection Section { get; }

    /// <summary>The phase shutdown.json shows while the step runs; null for a step that does not change it.</summary>
    public abstract ShutdownPhase? Phase { get; }

    /// <summary>The longest the step can take.</summary>
    public abstract TimeSpan Budget { get; }

    /// <summary>The step in one phrase for the previews, e.g. "SIGTERM (≤10s)"; null when the preview does not list it.</summary>
    public abstract string? Describe();

    public abstract Task<StepResult> RunAsync(RunContext run, CancellationToken cancellationToken);

    protected static long Ms(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);
}

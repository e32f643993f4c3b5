using Castra.Events;

namespace Castra.Shutdown.Plan;

/// <summary>
/// Asks the guest to power itself off and waits, inside one window (<see cref="CooperativeAttempt"/>); skipped (no
/// wait, events of the same shape) with -TurnOff / --force. <paramref name="Expected"/> is what a preview's pre-flight
/// found; a run decides again inside its window.
/// </summary>
internal sealed record CooperateStep(TimeSpan Window, bool Skipped, ChannelDecision? Expected = null) : PlanStep
{
    public override StepSection Section => StepSection.Stop;

    public override ShutdownPhase? Phase => ShutdownPhase.Cooperative;

    /// <summary>Nothing when skipped, or when the pre-flight found no channel (nothing is waited for); else the whole window.</summary>
    public override TimeSpan Budget => Skipped || Expected is { Channel: CooperativeChannel.Unavailable, Proceeds: false } ? TimeSpan.Zero : Window;

    public override string? Describe()
    {
        if (Skipped || Expected is { Channel: CooperativeChannel.Unavailable, Proceeds: false })
        {
            return null;
        }

        if (Expected is { Proceeds: false } broken)
        {
            return $"{ContractNames.Of(broken.Channel)} fails at once";
        }

        var what = Expected?.Channel == CooperativeChannel.Agent ? "guest agent shutdown" : "ACPI power button";
        return $"{what} (≤{EventText.Seconds(Ms(Window))})";
    }

    public override async Task<StepResult> RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var attempt = new CooperativeAttempt(run.Dir, run.Options, Window, run.Recorder);
        try
        {
            return await attempt.RunAsync(run.Process!, cancellationToken).ConfigureAwait(false) ? StepResult.Stopped(ShutdownOutcome.Graceful) : StepResult.Continue;
        }
        finally
        {
            run.Changed |= attempt.Delivered;
        }
    }
}

using System.Globalization;

namespace Castra.Events;

/// <summary>
/// One readable sentence per event, shared by the CLI's human output and the cmdlets' -Verbose lines, so both
/// faces describe a step the same way.
/// </summary>
public static class EventText
{
    public static string Describe(ShutdownEvent evt) => evt is CooperativeAttemptedEvent { Detail: { } why } && !Core(evt).Contains(why, StringComparison.Ordinal)
        ? $"{Core(evt)} ({why})"
        : Core(evt);

    private static string Core(ShutdownEvent evt) => evt switch
    {
        ShutdownRequestedEvent e => e.Message is null ? $"shutdown requested ({e.Reason})" : $"shutdown requested ({e.Reason}: {e.Message})",
        CooperativeAttemptedEvent { Method: "ACPI" } e => $"sent ACPI power button, waiting up to {Seconds(e.TimeoutMs)}",
        CooperativeAttemptedEvent { Method: "Agent" } e => $"asked the guest agent to shut down, waiting up to {Seconds(e.TimeoutMs)}",
        CooperativeAttemptedEvent { Method: "Unavailable" } => "no usable cooperative channel to the guest",
        CooperativeAttemptedEvent { Method: "None" } => "cooperative step skipped: turning the VM off without asking the guest",
        CooperativeAttemptedEvent e => $"cooperative attempt via {e.Method}",
        CooperativeSucceededEvent e => $"guest powered off after {e.DurationMs} ms ({e.Method}), no signal needed",
        CooperativeTimedOutEvent { Reason: "TimeoutExpired" } e => $"guest did not power off within {Seconds(e.TimeoutMs)}",
        CooperativeTimedOutEvent { Reason: "Skipped" } => "cooperative step skipped",
        CooperativeTimedOutEvent e => e.Detail is null ? $"cooperative step failed: {e.Reason}" : $"cooperative step failed: {e.Reason}: {e.Detail}",
        EscalationEvent e => $"sent {e.Signal}, waiting up to {Seconds(e.WaitMs)}",
        SaveAttemptedEvent e => $"paused the guest and saving its state to {e.Path}, up to {Seconds(e.TimeoutMs)}",
        SaveSucceededEvent e => $"saved the guest's state ({e.SizeBytes} bytes) in {e.DurationMs} ms and ended QEMU",
        SaveFailedEvent e => $"saving failed after {e.DurationMs} ms: {e.Reason}" + (e.Detail is null ? "" : $": {e.Detail}") + (e.GuestResumed ? " (guest resumed)" : ""),
        HookStartedEvent e => $"{e.Stage} hook {e.HookName} started (priority {e.Priority}, up to {Seconds(e.TimeoutMs)})",
        HookCompletedEvent { Status: "Succeeded" } e => e.Message is null ? $"{e.Stage} hook {e.HookName} succeeded in {e.DurationMs} ms" : $"{e.Stage} hook {e.HookName} succeeded in {e.DurationMs} ms: {e.Message}",
        HookCompletedEvent { Status: "Cancelled" } e => $"{e.Stage} hook {e.HookName} cancelled after {e.DurationMs} ms: {e.Message}",
        HookCompletedEvent e => $"{e.Stage} hook {e.HookName} {(e.Status == "TimedOut" ? "timed out" : "failed")} after {e.DurationMs} ms: {e.Message}",
        ShutdownCompleteEvent e => Complete(e),
        StartedEvent e => e.Pid is { } pid ? $"started again from its recorded definition in {e.StartMs} ms (PID {pid})" : $"started again from its recorded definition in {e.StartMs} ms",
        _ => evt.Type,
    };

    /// <summary>The remediation hint of an event, if it carries one.</summary>
    public static string? HintOf(ShutdownEvent evt) => evt is CooperativeTimedOutEvent t ? t.Hint : null;

    public static string Seconds(long milliseconds) =>
        (milliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + "s";

    private static string Complete(ShutdownCompleteEvent e)
    {
        // "Nothing to do" only for a VM that was found stopped: an aborted or cancelled run also has Changed=false.
        var text = $"{e.Outcome} in {e.TotalMs} ms" + (e.Changed || e.Outcome != "Graceful" ? "" : " (nothing to do)");
        var hooks = e.HooksSucceeded + e.HooksFailed + e.HooksTimedOut;
        if (hooks > 0)
        {
            text += $"; hooks: {e.HooksSucceeded} succeeded, {e.HooksFailed} failed, {e.HooksTimedOut} timed out";
        }

        if (e.SessionsInterrupted > 0)
        {
            text += $"; {e.SessionsInterrupted} session(s) interrupted";
        }

        return e.Detail is null ? text : $"{text}: {e.Detail}";
    }
}

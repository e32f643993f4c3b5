using Castra.Events;

namespace Castra.PowerShell.Presentation;

/// <summary>The extra lines a face shows next to an event: a verbose trace line, and a warning where one is due.</summary>
internal static class EventPresentation
{
    /// <summary>E.g. "[SHD] web: QEMU PID 4242 is the VM's: its command line names …" (how the run decided, not the events).</summary>
    public static string VerboseLine(Shutdown.ShutdownDiagnostic trace) => $"[SHD] {trace.Message}";

    /// <summary>
    /// A warning for the failure paths of the cooperative step (with the hint), for forced stops, and for hooks that
    /// failed or timed out; else null. A failed hook is worth a warning even under HookErrorAction Continue: the
    /// shutdown went on, but whatever the hook was for (an export, a flush) may not have happened.
    /// </summary>
    /// <param name="turnedOff">-TurnOff: the guest was never asked, so a forced stop is what was asked for, not news.</param>
    public static string? Warning(ShutdownEvent evt, bool turnedOff = false) => evt switch
    {
        CooperativeTimedOutEvent { Reason: "ChannelUnavailable" or "ChannelError" } t =>
            $"{t.VmName}: {t.Reason}: {t.Detail}" + (t.Hint is null ? "" : $". Hint: {t.Hint}"),
        SaveFailedEvent f => $"{f.VmName}: saving its state failed: {f.Reason}: {f.Detail}",
        ShutdownCompleteEvent { Outcome: "Forced" } c when !turnedOff => $"{c.VmName} had to be forced: the guest did not power itself off",
        HookCompletedEvent { Status: "Failed" or "TimedOut" } h =>
            $"{h.VmName}: {EventText.Describe(h)}" + (h.LogPath is null ? "" : $" (log: {h.LogPath})"),
        _ => null,
    };
}

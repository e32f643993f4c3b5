using Castra.Events;

namespace Castra.PowerShell.Presentation;

/// <summary>The extra lines a face shows next to an event: a verbose trace line, and a warning where one is due.</summary>
internal static class EventPresentation
{
    /// <summary>E.g. "[SHD] web: sent ACPI power button, waiting up to 60s".</summary>
    public static string VerboseLine(ShutdownEvent evt) => $"[SHD] {evt.VmName}: {EventText.Describe(evt)}";

    /// <summary>
    /// A warning for the failure paths of the cooperative step (with the hint), for forced stops, and for hooks that
    /// failed or timed out; else null. A failed hook is worth a warning even under HookErrorAction Continue: the
    /// shutdown went on, but whatever the hook was for (an export, a flush) may not have happened.
    /// </summary>
    public static string? Warning(ShutdownEvent evt) => evt switch
    {
        CooperativeTimedOutEvent { Reason: "ChannelUnavailable" or "ChannelError" } t =>
            $"{t.VmName}: {t.Reason}: {t.Detail}" + (t.Hint is null ? "" : $". Hint: {t.Hint}"),
        ShutdownCompleteEvent { Outcome: "Forced" } c => $"{c.VmName} had to be forced: the guest did not power itself off",
        HookCompletedEvent { Status: "Failed" or "TimedOut" } h =>
            $"{h.VmName}: {EventText.Describe(h)}" + (h.LogPath is null ? "" : $" (log: {h.LogPath})"),
        _ => null,
    };
}

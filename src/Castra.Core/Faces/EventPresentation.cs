using Castra.Events;

namespace Castra.Faces;

/// <summary>The extra lines a face shows next to an event: a verbose trace line, and a warning where one is due.</summary>
public static class EventPresentation
{
    /// <summary>E.g. "[SHD] web: sent ACPI power button, waiting up to 60s".</summary>
    public static string VerboseLine(ShutdownEvent evt) => $"[SHD] {evt.VmName}: {EventText.Describe(evt)}";

    /// <summary>A warning for the failure paths of the cooperative step (with the hint) and for forced stops; else null.</summary>
    public static string? Warning(ShutdownEvent evt) => evt switch
    {
        CooperativeTimedOutEvent { Reason: "ChannelUnavailable" or "ChannelError" } t =>
            $"{t.VmName}: {t.Reason}: {t.Detail}" + (t.Hint is null ? "" : $". Hint: {t.Hint}"),
        ShutdownCompleteEvent { Outcome: "Forced" } c => $"{c.VmName} had to be forced: the guest did not power itself off",
        _ => null,
    };
}

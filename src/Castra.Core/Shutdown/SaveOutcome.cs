namespace Castra.Shutdown;

/// <summary>What a save did: the image committed (and whether QEMU has exited since), or why not.</summary>
internal sealed record SaveOutcome(bool Saved, bool Exited, long SizeBytes, SaveFailureReason? Reason = null, string? Detail = null, bool GuestResumed = false, bool Changed = false)
{
    public static SaveOutcome Failed(SaveFailureReason reason, string detail, bool guestResumed, bool changed) =>
        new(false, false, 0, reason, detail, guestResumed, changed);
}

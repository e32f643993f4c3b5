namespace Castra.Hooks;

/// <summary>How one hook run ended (HookCompleted.Status).</summary>
public enum HookStatus
{
    Succeeded,
    Failed,
    TimedOut,

    /// <summary>The caller cancelled the shutdown (Ctrl+C) while it ran: its process group was killed.</summary>
    Cancelled,
}

namespace Castra.Hooks;

/// <summary>How one hook run ended (HookCompleted.Status).</summary>
public enum HookStatus
{
    Succeeded,
    Failed,
    TimedOut,
}

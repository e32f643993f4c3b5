namespace Castra.Events;

/// <summary>The stable event names (the <c>Type</c> field).</summary>
public static class EventTypes
{
    public const string ShutdownRequested = nameof(ShutdownRequested);
    public const string CooperativeAttempted = nameof(CooperativeAttempted);
    public const string CooperativeSucceeded = nameof(CooperativeSucceeded);
    public const string CooperativeTimedOut = nameof(CooperativeTimedOut);
    public const string Escalation = nameof(Escalation);
    public const string SaveAttempted = nameof(SaveAttempted);
    public const string SaveSucceeded = nameof(SaveSucceeded);
    public const string SaveFailed = nameof(SaveFailed);
    public const string HookStarted = nameof(HookStarted);
    public const string HookCompleted = nameof(HookCompleted);
    public const string ShutdownComplete = nameof(ShutdownComplete);

    /// <summary>Restart only: the VM was started again, after its ShutdownComplete.</summary>
    public const string Started = nameof(Started);
}

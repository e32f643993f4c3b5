namespace Castra.Events;

/// <summary>A cleanup hook (or Castra's own step, named castra.*) was started.</summary>
public sealed record HookStartedEvent() : ShutdownEvent(EventTypes.HookStarted)
{
    public string HookName { get; init; } = "";

    /// <summary>PreStop or PostStop.</summary>
    public string Stage { get; init; } = "";

    public int Priority { get; init; }

    /// <summary>When its process group is terminated if it has not finished.</summary>
    public long TimeoutMs { get; init; }
}

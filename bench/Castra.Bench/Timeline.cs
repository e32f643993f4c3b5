using Castra.Events;

namespace Castra.Bench;

/// <summary>
/// Where a run's time goes: for each step of a VM's shutdown, seen by the engine (its events) or by the fake (its
/// record), the time since the call started; summarized as median and max over the fleet.
/// </summary>
internal sealed class Timeline
{
    private static readonly string[] Steps =
    [
        "ShutdownRequested", "fake: qmp-connect", "fake: cmd:query-status", "CooperativeAttempted", "fake: cmd:system_powerdown",
        "fake: exit", "CooperativeSucceeded", "ShutdownComplete",
    ];

    private readonly DateTimeOffset _start;
    private readonly Dictionary<string, List<double>> _samples = Steps.ToDictionary(s => s, _ => new List<double>(), StringComparer.Ordinal);

    public Timeline(DateTimeOffset start) => _start = start;

    public void Add(IReadOnlyList<ShutdownEvent> events, IReadOnlyList<(string What, DateTimeOffset At)> records)
    {
        foreach (var evt in events)
        {
            if (_samples.TryGetValue(evt.Type, out var list))
            {
                list.Add((evt.Timestamp - _start).TotalMilliseconds);
            }
        }

        foreach (var (what, at) in records)
        {
            if (_samples.TryGetValue("fake: " + what, out var list))
            {
                list.Add((at - _start).TotalMilliseconds);
            }
        }
    }

    public IReadOnlyList<TimelineStep> Summarize() =>
        Steps.Select(s => (Step: s, Stats: Stats.Of(_samples[s])))
            .Where(s => s.Stats is not null)
            .Select(s => new TimelineStep(s.Step, s.Stats!.Median, s.Stats.Max))
            .ToList();
}

internal sealed record TimelineStep(string Step, double MedianMs, double MaxMs);

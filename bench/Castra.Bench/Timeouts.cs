namespace Castra.Bench;

/// <summary>
/// The escalation timeouts every driver uses for one fleet. Scenario 1's fakes all exit on their own, so its
/// timeouts are Castra's defaults and never reached; scenario 2 uses short ones (2 s / 1 s / 1 s) so the slow paths
/// are measured in seconds, not minutes.
/// </summary>
internal sealed record Timeouts(TimeSpan Cooperative, TimeSpan Term, TimeSpan Kill)
{
    public static readonly Timeouts Defaults = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5));

    public static readonly Timeouts Short = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    public static Timeouts For(FleetMix mix) => mix.AllGraceful ? Defaults : Short;

    /// <summary>The slowest path the behaviours dictate: what a perfect orchestrator with zero overhead would take.</summary>
    public double IdealMs(IEnumerable<FakeBehavior> behaviors, int exitDelayMs) => behaviors.Distinct().Max(b => b switch
    {
        FakeBehavior.Graceful => exitDelayMs,
        FakeBehavior.IgnoreAcpi => Cooperative.TotalMilliseconds,
        _ => Cooperative.TotalMilliseconds + Term.TotalMilliseconds,
    });
}

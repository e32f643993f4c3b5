using System.Diagnostics;
using Castra.Events;
using Castra.Shutdown;

namespace Castra.Bench;

/// <summary>
/// Castra's own shutdown of a whole fleet in one StopAsync call, in this process, with everything a real run does
/// (locks, status files, fsynced journals, the audit trail). Every figure comes from the engine's own events and
/// the fakes' own records; the fleet's launch is never timed.
/// </summary>
internal static class EngineRun
{
    public static async Task<RunResult> RunAsync(Fleet fleet, FleetMix mix, int exitDelayMs, int throttleLimit, CancellationToken cancellationToken)
    {
        var timeouts = Timeouts.For(mix);
        var options = new ShutdownOptions
        {
            CooperativeTimeout = timeouts.Cooperative,
            TermTimeout = timeouts.Term,
            KillTimeout = timeouts.Kill,
            ThrottleLimit = throttleLimit,
            Reason = ShutdownReason.UserRequested,
            Message = "castra-bench",
        };
        var observer = new FleetObserver();

        // Collect launch garbage now so that the run's own allocations are what the sampler sees.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        var startedAt = DateTime.UtcNow;
        var sampler = ResourceSampler.Start();
        var clock = Stopwatch.StartNew();
        var results = await new ShutdownEngine(fleet.Root).StopAsync(fleet.Vms.Select(v => v.Name), options, observer, cancellationToken);
        clock.Stop();
        var resources = sampler.Stop();

        var events = observer.ByVm();
        var mismatches = new List<string>();
        var overhead = new List<double>();
        var detection = new List<double>();
        var powerdownLag = new List<double>();
        var timeline = new Timeline(startedAt);
        foreach (var vm in fleet.Vms)
        {
            var own = events.GetValueOrDefault(vm.Name) ?? [];
            if (FleetCheck.Engine(vm, own) is { } problem)
            {
                mismatches.Add(problem);
            }

            var records = vm.ReadRecords();
            timeline.Add(own, records);
            if (records.FirstOrDefault(r => r.What == "cmd:system_powerdown") is { What: not null } powerdown)
            {
                powerdownLag.Add((powerdown.At - startedAt).TotalMilliseconds);
            }

            if (own.OfType<ShutdownCompleteEvent>().SingleOrDefault() is { } complete && vm.Behavior == FakeBehavior.Graceful)
            {
                overhead.Add(complete.TotalMs - exitDelayMs);
            }

            // The first event the engine can only emit after seeing the exit: CooperativeSucceeded on the graceful
            // path, ShutdownComplete after SIGTERM. SIGKILLed fakes record no exit time, so they have no latency.
            if (vm.ExitedAt is { } exited)
            {
                ShutdownEvent? seen = vm.Behavior == FakeBehavior.Graceful
                    ? own.OfType<CooperativeSucceededEvent>().FirstOrDefault()
                    : own.OfType<ShutdownCompleteEvent>().FirstOrDefault();
                if (seen is not null)
                {
                    detection.Add((seen.Timestamp - exited).TotalMilliseconds);
                }
            }
        }

        return new RunResult
        {
            Scenario = mix.Name,
            Driver = throttleLimit == 0 ? "castra" : $"castra-throttle-{throttleLimit}",
            Vms = fleet.Vms.Count,
            ExitDelayMs = exitDelayMs,
            WallMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1),
            IdealMs = timeouts.IdealMs(fleet.Vms.Select(v => v.Behavior), exitDelayMs),
            PathsCorrect = fleet.Vms.Count - mismatches.Count,
            PathMismatches = mismatches.Take(5).ToList(),
            OverheadMs = Stats.Of(overhead),
            ExitDetectionMs = Stats.Of(detection),
            PowerdownSentAfterMs = Stats.Of(powerdownLag),
            Resources = resources,
            Diagnostics = observer.Diagnostics.Count + results.Count(r => !r.Stopped),
            Timeline = timeline.Summarize(),
        };
    }
}

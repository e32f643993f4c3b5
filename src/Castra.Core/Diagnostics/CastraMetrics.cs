using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Castra.Diagnostics;

/// <summary>
/// Castra's instruments on the Meter "Castra" (System.Diagnostics.Metrics), readable by OpenTelemetry,
/// dotnet-counters and any MeterListener. Durations are histograms in milliseconds.
/// </summary>
public static class CastraMetrics
{
    public const string MeterName = "Castra";

    private static readonly Meter Meter = new(MeterName, typeof(CastraMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Histogram<double> ShutdownDuration = Meter.CreateHistogram<double>("castra.shutdown.duration", "ms", "Duration of one VM's shutdown, by outcome");
    private static readonly Counter<long> Graceful = Meter.CreateCounter<long>("castra.shutdown.graceful", "{shutdown}", "Shutdowns that ended Graceful");
    private static readonly Counter<long> Forced = Meter.CreateCounter<long>("castra.shutdown.forced", "{shutdown}", "Shutdowns that needed a signal (Forced)");
    private static readonly Counter<long> Saved = Meter.CreateCounter<long>("castra.shutdown.saved", "{shutdown}", "Shutdowns that saved the guest's state (Saved)");
    private static readonly Histogram<double> HookDuration = Meter.CreateHistogram<double>("castra.hook.duration", "ms", "Duration of one cleanup hook run, by stage and status");
    private static readonly Counter<long> HookSucceeded = Meter.CreateCounter<long>("castra.hook.succeeded", "{hook}", "Hook runs that exited 0");
    private static readonly Counter<long> HookFailed = Meter.CreateCounter<long>("castra.hook.failed", "{hook}", "Hook runs that failed");
    private static readonly Counter<long> HookTimedOut = Meter.CreateCounter<long>("castra.hook.timed_out", "{hook}", "Hook runs stopped at their timeout");

    internal static void RecordShutdown(string vmName, string outcome, long totalMs)
    {
        var tags = new TagList { { "outcome", outcome }, { "vm", vmName } };
        ShutdownDuration.Record(totalMs, tags);
        if (outcome == nameof(Shutdown.ShutdownOutcome.Graceful))
        {
            Graceful.Add(1, tags);
        }
        else if (outcome == nameof(Shutdown.ShutdownOutcome.Forced))
        {
            Forced.Add(1, tags);
        }
        else if (outcome == nameof(Shutdown.ShutdownOutcome.Saved))
        {
            Saved.Add(1, tags);
        }
    }

    internal static void RecordHook(string vmName, string hookName, string stage, string status, long durationMs)
    {
        var tags = new TagList { { "vm", vmName }, { "hook", hookName }, { "stage", stage }, { "status", status } };
        HookDuration.Record(durationMs, tags);
        var counter = status switch
        {
            nameof(Hooks.HookStatus.Succeeded) => HookSucceeded,
            nameof(Hooks.HookStatus.TimedOut) => HookTimedOut,
            _ => HookFailed,
        };
        counter.Add(1, tags);
    }
}

using System.Globalization;
using System.Text.Json;

namespace Castra.Bench.Guest;

/// <summary>
/// Castra's own timestamps for one VM's shutdown, from its event journal (vms/NAME/events.ndjson: one JSON event per
/// line, written as it happens), to split the overhead over the guest's power-off into where it goes.
/// </summary>
internal sealed record JournalTimeline(DateTimeOffset? Requested, DateTimeOffset? Succeeded, DateTimeOffset? Completed)
{
    /// <summary>Null when there is no journal (a driver that is not Castra).</summary>
    public static JournalTimeline? Read(string vmDirectory)
    {
        var path = Path.Combine(vmDirectory, "events.ndjson");
        if (!File.Exists(path))
        {
            return null;
        }

        var first = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            using var json = JsonDocument.Parse(line);
            var type = json.RootElement.GetProperty("Type").GetString()!;
            var at = DateTimeOffset.Parse(json.RootElement.GetProperty("Timestamp").GetString()!, CultureInfo.InvariantCulture);
            first.TryAdd(type, at);
        }

        DateTimeOffset? Of(string type) => first.TryGetValue(type, out var at) ? at : null;
        return new JournalTimeline(Of("ShutdownRequested"), Of("CooperativeSucceeded"), Of("ShutdownComplete"));
    }
}

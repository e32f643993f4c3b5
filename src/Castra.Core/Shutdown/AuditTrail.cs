using System.Text;
using System.Text.Json;
using Castra.Events;
using Castra.Serialization;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Appends one line per completed shutdown to <c>audit.ndjson</c> at the state root. Each line is a single
/// O_APPEND write(2), so concurrent shutdowns (in one process or many) neither interleave nor overwrite lines.
/// </summary>
internal static class AuditTrail
{
    public static void Append(StateRoot root, AuditRecord record)
    {
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, CastraJsonContext.Default.AuditRecord) + "\n");
        Directory.CreateDirectory(root.Path);
        Native.Libc.AppendRecord(root.AuditFile, line);
    }

    /// <summary>The audit file's records, oldest first; unreadable lines are skipped.</summary>
    public static IReadOnlyList<AuditRecord> Read(StateRoot root)
    {
        if (!File.Exists(root.AuditFile))
        {
            return [];
        }

        var records = new List<AuditRecord>();
        foreach (var line in File.ReadLines(root.AuditFile))
        {
            try
            {
                if (JsonSerializer.Deserialize(line, CastraJsonContext.Default.AuditRecord) is { } r)
                {
                    records.Add(r);
                }
            }
            catch (JsonException)
            {
            }
        }

        return records;
    }

    /// <summary>The steps that acted, from the events: cooperative methods tried and signals sent.</summary>
    public static string PathOf(IEnumerable<ShutdownEvent> events)
    {
        var steps = events.Select(e => e switch
        {
            CooperativeAttemptedEvent a => a.Method,
            EscalationEvent x => x.Signal,
            _ => null,
        }).Where(s => s is not null).ToList();
        return steps.Count == 0 ? "None" : string.Join(",", steps);
    }
}

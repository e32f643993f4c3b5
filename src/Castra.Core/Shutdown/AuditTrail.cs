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
    private const string FileName = "audit.ndjson";

    /// <summary>One O_APPEND write(2) of one line to audit.ndjson (0600, owned by root or the caller, no link followed).</summary>
    /// <exception cref="IOException">The audit file is unsafe or cannot be written.</exception>
    public static void Append(StateRoot root, AuditRecord record)
    {
        using var dir = root.Open(create: true)!;
        Append(dir, root.AuditFile, record);
    }

    /// <summary>Through a state root the caller holds open (a shutdown's VM directory holds its root).</summary>
    public static void Append(StateDirectory root, string displayPath, AuditRecord record)
    {
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, CastraJsonContext.Default.AuditRecord) + "\n");
        using var file = root.OpenForWriting(FileName, StateDirectory.WriteMode.Append);
        if (Native.Libc.WriteFull((int)file.DangerousGetHandle(), line) < 0)
        {
            throw new IOException($"cannot append to {displayPath}: {Native.Libc.ErrorText(Native.Libc.LastError)}");
        }
    }

    /// <summary>The audit file's records, oldest first; unreadable or over-long lines are skipped.</summary>
    /// <exception cref="IOException">The audit file is unsafe or unreadable.</exception>
    public static IReadOnlyList<AuditRecord> Read(StateRoot root)
    {
        using var dir = root.Open(create: false);
        using var handle = dir?.OpenForReading(FileName, requireTrustedOwner: true, out _);
        if (handle is null)
        {
            return [];
        }

        var records = new List<AuditRecord>();
        using var stream = new FileStream(handle, FileAccess.Read);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > StateLimits.JournalLineBytes)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize(line, CastraJsonContext.Default.AuditRecord) is { } r)
                {
                    records.Add(r);
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
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
            SaveAttemptedEvent => "Save",
            _ => null,
        }).Where(s => s is not null).ToList();
        return steps.Count == 0 ? "None" : string.Join(",", steps);
    }
}

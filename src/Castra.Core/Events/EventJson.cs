using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Castra.Serialization;

namespace Castra.Events;

/// <summary>Reads and writes events as one-line JSON objects (the journal format and <c>--json</c> output).</summary>
public static class EventJson
{
    public static string Serialize(ShutdownEvent evt) =>
        JsonSerializer.Serialize(evt, TypeInfoFor(evt.Type));

    internal static byte[] SerializeLine(ShutdownEvent evt)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(evt, TypeInfoFor(evt.Type));
        var line = new byte[bytes.Length + 1];
        bytes.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }

    /// <summary>Parses one journal line; the <c>Type</c> field selects the event class.</summary>
    /// <exception cref="FormatException">The line is not a Castra event.</exception>
    public static ShutdownEvent Deserialize(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("Type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                throw new FormatException("journal line has no string 'Type' field");
            }

            var info = TypeInfoFor(typeElement.GetString()!);
            var evt = (ShutdownEvent)(doc.RootElement.Deserialize(info)
                ?? throw new FormatException("journal line is null"));

            // Not journaled: the reader says where the event came from (the generated deserializer leaves it null).
            return evt with { StateRoot = "" };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"journal line is not a Castra event: {ex.Message}", ex);
        }
    }

    internal static ShutdownEvent Deserialize(ReadOnlySpan<byte> utf8Line) => Deserialize(Encoding.UTF8.GetString(utf8Line));

    private static JsonTypeInfo TypeInfoFor(string type) => type switch
    {
        EventTypes.ShutdownRequested => CastraJsonContext.Default.ShutdownRequestedEvent,
        EventTypes.CooperativeAttempted => CastraJsonContext.Default.CooperativeAttemptedEvent,
        EventTypes.CooperativeSucceeded => CastraJsonContext.Default.CooperativeSucceededEvent,
        EventTypes.CooperativeTimedOut => CastraJsonContext.Default.CooperativeTimedOutEvent,
        EventTypes.Escalation => CastraJsonContext.Default.EscalationEvent,
        EventTypes.SaveAttempted => CastraJsonContext.Default.SaveAttemptedEvent,
        EventTypes.SaveSucceeded => CastraJsonContext.Default.SaveSucceededEvent,
        EventTypes.SaveFailed => CastraJsonContext.Default.SaveFailedEvent,
        EventTypes.HookStarted => CastraJsonContext.Default.HookStartedEvent,
        EventTypes.HookCompleted => CastraJsonContext.Default.HookCompletedEvent,
        EventTypes.ShutdownComplete => CastraJsonContext.Default.ShutdownCompleteEvent,
        EventTypes.Started => CastraJsonContext.Default.StartedEvent,
        _ => throw new FormatException($"unknown event type '{type}'"),
    };
}

using System.Text.Json;

namespace Castra.Qmp;

/// <summary>
/// One message from a QMP monitor or the guest agent, fully classified. QMP has exactly four shapes: the greeting
/// {"QMP":{…}}, a success {"return":…}, an error {"error":{"class":…,"desc":…}} (both with the "id" the command
/// carried) and an event {"event":"NAME","data":{…}}. <see cref="Parse"/> never throws: anything else, including a
/// member of the wrong JSON type, is <see cref="Unrecognised"/> with the reason and a printable excerpt.
/// </summary>
internal abstract record QmpMessage
{
    private static readonly string[] Shapes = ["QMP", "event", "return", "error"];

    /// <summary>Classifies one line (without its terminator).</summary>
    public static QmpMessage Parse(ReadOnlyMemory<byte> line)
    {
        var document = ChannelJson.TryParse(line, out var problem);
        if (document is null)
        {
            return new Unrecognised(QmpErrorKind.ProtocolError, problem, ChannelText.Excerpt(line.Span));
        }

        var keepDocument = false;
        try
        {
            var message = Classify(document, line);
            keepDocument = message is Return;
            return message;
        }
        finally
        {
            if (!keepDocument)
            {
                document.Dispose();
            }
        }
    }

    private static QmpMessage Classify(JsonDocument document, ReadOnlyMemory<byte> line)
    {
        var root = document.RootElement;
        Unrecognised Malformed(string why) => new(QmpErrorKind.MalformedMessage, why, ChannelText.Excerpt(line.Span));

        if (root.ValueKind != JsonValueKind.Object)
        {
            return Malformed($"{ChannelJson.Describe(root.ValueKind)}, not a JSON object");
        }

        var shapes = Shapes.Where(name => root.TryGetProperty(name, out _)).ToList();
        if (shapes.Count != 1)
        {
            return Malformed(shapes.Count == 0
                ? "an object with none of QMP, return, error or event"
                : $"an object with both {shapes[0]} and {shapes[1]}");
        }

        // Castra sends string ids only, so an id of any other type matches no command and is ignored as absent.
        var id = ChannelJson.TryGetMember(root, "id", out var idValue) ? ChannelJson.AsString(idValue) : null;
        var value = root.GetProperty(shapes[0]);
        switch (shapes[0])
        {
            case "QMP":
                return value.ValueKind == JsonValueKind.Object
                    ? new Greeting()
                    : Malformed($"a greeting whose QMP member is {ChannelJson.Describe(value.ValueKind)}, not an object");

            case "event":
                if (ChannelJson.AsString(value) is not { Length: > 0 } name)
                {
                    return Malformed($"an event whose name is {ChannelJson.Describe(value.ValueKind)}, not a string");
                }

                if (!ChannelJson.TryGetMember(root, "data", out var data))
                {
                    return new Event(ChannelText.Printable(name, 60), default);
                }

                return data.ValueKind == JsonValueKind.Object
                    ? new Event(ChannelText.Printable(name, 60), data.Clone())
                    : Malformed($"a {ChannelText.Printable(name, 40)} event whose data is {ChannelJson.Describe(data.ValueKind)}, not an object");

            case "error":
                if (value.ValueKind != JsonValueKind.Object)
                {
                    return Malformed($"an error reply whose error member is {ChannelJson.Describe(value.ValueKind)}, not an object");
                }

                ChannelJson.TryGetMember(value, "class", out var errorClass);
                ChannelJson.TryGetMember(value, "desc", out var description);
                if (ChannelJson.AsString(errorClass) is not { } cls || ChannelJson.AsString(description) is not { } desc)
                {
                    var field = ChannelJson.AsString(errorClass) is null ? ("class", errorClass) : ("desc", description);
                    return Malformed($"an error reply whose {field.Item1} is {ChannelJson.Describe(field.Item2.ValueKind)}, not a string");
                }

                return new Error(id, ChannelText.Printable(cls, 60), ChannelText.Printable(desc, 200));

            default:
                return new Return(id, document, value, ChannelText.Excerpt(line.Span));
        }
    }

    /// <summary>{"QMP":{…}}: the monitor's greeting.</summary>
    public sealed record Greeting : QmpMessage;

    /// <summary>
    /// {"return":…}: a command succeeded. <see cref="Value"/> lives in <see cref="Document"/>, which the receiver
    /// must dispose (or hand on); <see cref="Excerpt"/> is the printable start of the line, for Details.
    /// </summary>
    public sealed record Return(string? Id, JsonDocument Document, JsonElement Value, string Excerpt) : QmpMessage, IDisposable
    {
        public void Dispose() => Document.Dispose();
    }

    /// <summary>{"error":{…}}: a command failed. Class and description are already printable and bounded.</summary>
    public sealed record Error(string? Id, string Class, string Description) : QmpMessage;

    /// <summary>{"event":…}: the name made printable; <see cref="Data"/> is a detached copy (or undefined when absent).</summary>
    public sealed record Event(string Name, JsonElement Data) : QmpMessage;

    /// <summary>
    /// Anything else: <see cref="Why"/> it is not a QMP message, and a printable excerpt of the line. Kind is
    /// ProtocolError for bytes that are not acceptable JSON, MalformedMessage for JSON of the wrong shape.
    /// </summary>
    public sealed record Unrecognised(QmpErrorKind Kind, string Why, string Excerpt) : QmpMessage
    {
        /// <summary>What the peer sent, for "… sent {What}: {Excerpt}".</summary>
        public string What => Kind == QmpErrorKind.ProtocolError ? Why : $"a malformed message ({Why})";
    }
}

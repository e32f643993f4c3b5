using System.Text.Json;

namespace Castra.Qmp;

/// <summary>
/// A successful reply to a QMP command. <see cref="Return"/> is always a JSON object (the commands Castra sends all
/// return one; anything else was refused as malformed), and every string in it decodes, so reading it with
/// TryGetProperty and a ValueKind check cannot throw. Dispose it to release the parsed document.
/// </summary>
public sealed class QmpReply : IDisposable
{
    private readonly JsonDocument _document;

    internal QmpReply(JsonDocument document, JsonElement value, string excerpt)
    {
        _document = document;
        Return = value;
        Excerpt = excerpt;
    }

    /// <summary>The reply's "return" object.</summary>
    public JsonElement Return { get; }

    /// <summary>The printable start of the reply line, for Details.</summary>
    internal string Excerpt { get; }

    public void Dispose() => _document.Dispose();
}

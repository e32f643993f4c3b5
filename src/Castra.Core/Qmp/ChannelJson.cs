using System.Text.Json;
using System.Text.Unicode;

namespace Castra.Qmp;

/// <summary>
/// Parses one line from a QMP or guest-agent peer with System.Text.Json, and makes the result safe to read.
/// JsonDocument accepts input on which later reads throw: invalid UTF-8 inside a string and escaped lone surrogates
/// ("\ud800", also in property names) make GetString, GetRawText and even TryGetProperty throw
/// InvalidOperationException; numbers such as 1e400 make GetInt64 throw FormatException. So a line is accepted only
/// if it is valid UTF-8 and every string and property name in it decodes, and readers use the Try* accessors below,
/// which check the ValueKind first. After that, no read of the document can throw.
/// </summary>
internal static class ChannelJson
{
    /// <summary>
    /// The messages Castra reads nest at most 4 levels (the greeting: QMP, version, qemu); 32 leaves room for any event
    /// QEMU sends that Castra ignores, and keeps <see cref="Decodes"/>, which recurses, shallow.
    /// </summary>
    public const int MaxDepth = 32;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = MaxDepth };

    /// <summary>The document, or null with what the line is instead ("a line that is not JSON", …). Never throws.</summary>
    public static JsonDocument? TryParse(ReadOnlyMemory<byte> line, out string problem)
    {
        if (!Utf8.IsValid(line.Span))
        {
            problem = "a line that is not valid UTF-8";
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, Options);
        }
        catch (JsonException ex)
        {
            problem = ex.Message.Contains("maximum configured depth", StringComparison.Ordinal)
                ? $"JSON nested deeper than {MaxDepth} levels"
                : "a line that is not JSON";
            return null;
        }

        if (!Decodes(document.RootElement))
        {
            document.Dispose();
            problem = "JSON holding a string that is not valid Unicode";
            return null;
        }

        problem = string.Empty;
        return document;
    }

    /// <summary>How a value is described in a Detail: "a JSON array", "a number", …</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a JSON array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };

    /// <summary>The member <paramref name="name"/> of an object; false for a non-object or a missing member.</summary>
    public static bool TryGetMember(JsonElement element, string name, out JsonElement value)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>The string value of <paramref name="element"/>; null for any other kind.</summary>
    public static string? AsString(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? element.GetString() : null;

    /// <summary>The boolean value of <paramref name="element"/>; null for any other kind.</summary>
    public static bool? AsBoolean(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>The value as a 64-bit integer; null for other kinds, fractions and out-of-range numbers (1e400).</summary>
    public static long? AsInt64(JsonElement element) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var value) ? value : null;

    /// <summary>True when every string and property name decodes to valid UTF-16 (no escaped lone surrogate).</summary>
    private static bool Decodes(JsonElement element)
    {
        try
        {
            return DecodesUnchecked(element);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json's way of saying "this string cannot be transcoded": exactly what is being checked.
            return false;
        }
    }

    private static bool DecodesUnchecked(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _ = element.GetString();
                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!DecodesUnchecked(item))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    if (!DecodesUnchecked(property.Value))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Castra.Serialization;

/// <summary>
/// Every time Castra writes is a UTC <see cref="DateTime"/>, written as ISO 8601 with 'Z' and full precision
/// (<c>2026-11-30T03:31:18.0942045Z</c>). DateTime, not DateTimeOffset, because it is the type PowerShell's own
/// serializer keeps whole through Start-Job, remoting and Export-Clixml (a DateTimeOffset comes back as a bag of
/// properties or a culture-formatted string). Reading accepts any ISO 8601 form (files written with "+00:00" by earlier
/// versions included) and always yields UTC, never the reader's local time.
/// </summary>
internal sealed class UtcDateTimeConverter : JsonConverter<DateTime>
{
    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String
            || !DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            throw new JsonException("expected an ISO 8601 time");
        }

        return value.UtcDateTime;
    }

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(ToUtc(value).ToString("O", CultureInfo.InvariantCulture));
    }

    /// <summary>Unspecified is taken as UTC (every time Castra makes is UTC); Local is converted.</summary>
    public static DateTime ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };
}

using System.Buffers;
using System.Globalization;
using System.Text;

namespace Castra.Qmp;

/// <summary>
/// Turns text that came from a QMP or guest-agent peer into something safe to put in an event Detail: one line,
/// printable, valid Unicode, bounded. Every byte on those sockets is written by something Castra does not trust
/// (the guest owns the agent channel), and Details end up in terminals, JSON journals and audit lines.
/// </summary>
internal static class ChannelText
{
    /// <summary>How much of a peer's message a Detail quotes: enough to recognise it, short enough for one line.</summary>
    public const int ExcerptChars = 120;

    /// <summary>A printable excerpt of raw peer bytes: valid UTF-8 is kept, every invalid byte is shown as \xNN.</summary>
    public static string Excerpt(ReadOnlySpan<byte> bytes, int maxChars = ExcerptChars)
    {
        var text = new StringBuilder();
        while (!bytes.IsEmpty)
        {
            var before = text.Length;
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var consumed) == OperationStatus.Done)
            {
                Append(text, rune);
            }
            else
            {
                // Invalid or truncated UTF-8: show each byte of the bad sequence rather than guessing.
                for (var i = 0; i < consumed; i++)
                {
                    text.Append(CultureInfo.InvariantCulture, $"\\x{bytes[i]:X2}");
                }
            }

            if (text.Length > maxChars)
            {
                return Truncated(text, before);
            }

            bytes = bytes[consumed..];
        }

        return text.ToString();
    }

    /// <summary>
    /// <paramref name="text"/> as one printable line of at most <paramref name="maxChars"/> characters (then "…"):
    /// control, format (bidi overrides, zero-width) and line/paragraph separator characters are escaped, unpaired
    /// surrogates become U+FFFD.
    /// </summary>
    public static string Printable(string? text, int maxChars = ExcerptChars)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (IsPrintable(text) && text.Length <= maxChars)
        {
            return text;
        }

        var builder = new StringBuilder();
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            var before = builder.Length;
            Rune.DecodeFromUtf16(span, out var rune, out var consumed); // An unpaired surrogate decodes as U+FFFD.
            Append(builder, rune);
            if (builder.Length > maxChars)
            {
                return Truncated(builder, before);
            }

            span = span[consumed..];
        }

        return builder.ToString();
    }

    /// <summary>True when <paramref name="text"/> holds nothing <see cref="Printable"/> would escape.</summary>
    public static bool IsPrintable(string text)
    {
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out var rune, out var consumed) != OperationStatus.Done || NeedsEscape(rune))
            {
                return false;
            }

            span = span[consumed..];
        }

        return true;
    }

    private static void Append(StringBuilder text, Rune rune)
    {
        if (!NeedsEscape(rune))
        {
            text.Append(rune.ToString());
        }
        else if (rune.Value <= 0xFF)
        {
            text.Append(CultureInfo.InvariantCulture, $"\\x{rune.Value:X2}");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:X4}");
        }
    }

    private static bool NeedsEscape(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    /// <summary>Cut at a whole character or escape (never half a surrogate pair or an escape such as "\x4").</summary>
    private static string Truncated(StringBuilder text, int length)
    {
        text.Length = length;
        return text.Append('…').ToString();
    }
}

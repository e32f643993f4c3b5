using System.Globalization;
using System.Text;

namespace Castra.Tests.Support;

/// <summary>Assertions on text that came (partly) from an untrusted channel.</summary>
public static class ChannelAssert
{
    /// <summary>One line, valid Unicode, nothing a terminal would act on (controls, bidi overrides, separators), bounded.</summary>
    public static void Printable(string? text, int maxChars = 700)
    {
        Assert.NotNull(text);
        Assert.InRange(text.Length, 1, maxChars);
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            Assert.Equal(System.Buffers.OperationStatus.Done, Rune.DecodeFromUtf16(span, out var rune, out var consumed));
            var category = Rune.GetUnicodeCategory(rune);
            Assert.False(
                category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator,
                $"U+{rune.Value:X4} ({category}) in: {text}");
            span = span[consumed..];
        }
    }
}

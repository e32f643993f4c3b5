using System.Globalization;
using System.Text;

namespace Castra.Tests.Support;

/// <summary>
/// Reads a unit file back the way systemd does (systemd.syntax(7), systemd.service(5) "Command lines"), written here
/// independently of Castra's writer: comments, [Section] headers and Key=value lines; for an Exec line, specifiers
/// first (only %% is expected), then words split on whitespace with double/single quotes and C escapes, then $$ at
/// exec time. Anything the writer should never produce (another specifier, an unescaped $) fails the test.
/// </summary>
public sealed class UnitFileText
{
    private UnitFileText(IReadOnlyList<string> comments, IReadOnlyList<(string Section, string Key, string Value)> entries)
    {
        Comments = comments;
        Entries = entries;
    }

    public IReadOnlyList<string> Comments { get; }

    public IReadOnlyList<(string Section, string Key, string Value)> Entries { get; }

    public IReadOnlyList<string> Sections => Entries.Select(e => e.Section).Distinct().ToList();

    public IReadOnlyList<string> Values(string section, string key) =>
        Entries.Where(e => e.Section == section && e.Key == key).Select(e => e.Value).ToList();

    public string One(string section, string key) => Assert.Single(Values(section, key));

    public static UnitFileText Parse(string text)
    {
        var comments = new List<string>();
        var entries = new List<(string, string, string)>();
        string? section = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#') || line.StartsWith(';'))
            {
                Assert.Null(section); // comments only at the top
                comments.Add(line);
                continue;
            }

            Assert.False(line.EndsWith('\\'), $"a continued line: {line}");
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                section = line[1..^1];
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"not Key=value: {line}");
            Assert.NotNull(section);
            entries.Add((section!, line[..eq].Trim(), line[(eq + 1)..].Trim()));
        }

        return new UnitFileText(comments, entries);
    }

    /// <summary>
    /// The argv systemd would execute for an Exec line (no environment: every $ of an argument must have been $$; the
    /// program itself is not subject to $ substitution, as systemd-analyze verify shows).
    /// </summary>
    public static IReadOnlyList<string> ExecArgv(string value)
    {
        var expanded = Specifiers(value);
        var words = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < expanded.Length && char.IsWhiteSpace(expanded[i]))
            {
                i++;
            }

            if (i >= expanded.Length)
            {
                break;
            }

            var word = new StringBuilder();
            char? quote = null;
            for (; i < expanded.Length; i++)
            {
                var c = expanded[i];
                if (quote is null && char.IsWhiteSpace(c))
                {
                    break;
                }

                if (c == '\\')
                {
                    i++;
                    Assert.True(i < expanded.Length, "a backslash at the end of the line");
                    var e = expanded[i];
                    switch (e)
                    {
                        case '\\' or '"' or '\'' or ';' or ' ': word.Append(e); break;
                        case 'n': word.Append('\n'); break;
                        case 't': word.Append('\t'); break;
                        case 'x':
                            word.Append((char)int.Parse(expanded.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            i += 2;
                            break;
                        default: Assert.Fail($"unexpected escape \\{e} in {value}"); break;
                    }

                    continue;
                }

                if (quote is null && c is '"' or '\'')
                {
                    quote = c;
                    continue;
                }

                if (quote == c)
                {
                    quote = null;
                    continue;
                }

                word.Append(c);
            }

            Assert.Null(quote);
            words.Add(words.Count == 0 ? word.ToString() : Dollars(word.ToString()));
        }

        return words;
    }

    private static string Specifiers(string value)
    {
        var text = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%')
            {
                Assert.True(i + 1 < value.Length && value[i + 1] == '%', $"a specifier other than %% in {value}");
                i++;
            }

            text.Append(value[i]);
        }

        return text.ToString();
    }

    private static string Dollars(string word)
    {
        var text = new StringBuilder();
        for (var i = 0; i < word.Length; i++)
        {
            if (word[i] == '$')
            {
                Assert.True(i + 1 < word.Length && word[i + 1] == '$', $"an environment variable reference in {word}");
                i++;
            }

            text.Append(word[i]);
        }

        return text.ToString();
    }
}

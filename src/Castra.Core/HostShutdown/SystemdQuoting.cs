using System.Globalization;
using System.Text;

namespace Castra.HostShutdown;

/// <summary>
/// Writes values into a systemd unit file so systemd reads back exactly what was meant (systemd.syntax(7),
/// systemd.service(5) "Command lines"): systemd first expands specifiers on the whole line (<c>%</c> → <c>%%</c>), then
/// splits an Exec line into words, honouring double quotes and C-style backslash escapes, and at exec time substitutes
/// <c>$VAR</c> (<c>$</c> → <c>$$</c>). A state root such as "/srv/vm 100%" must reach castra as one argument.
/// </summary>
public static class SystemdQuoting
{
    /// <summary>
    /// One argument of an Exec line: double-quoted unless it is made only of characters that mean nothing to systemd,
    /// with <c>\</c>, <c>"</c>, <c>%</c>, <c>$</c> and control characters escaped. A lone <c>;</c> (a command separator
    /// to older systemd) is written <c>\;</c>.
    /// </summary>
    public static string ExecArgument(string word) => Quote(word, doubleDollar: true);

    /// <summary>
    /// A whole Exec line from its arguments. The program (the first) is not subject to $VAR substitution, so its
    /// <c>$</c> is written as is (checked with systemd-analyze verify: "$$" there stays two characters); systemd also
    /// refuses a program path with a backslash or a quote (<see cref="IsExecutablePath"/>).
    /// </summary>
    public static string ExecLine(IEnumerable<string> argv) =>
        string.Join(' ', argv.Select((word, i) => i == 0 ? Quote(word, doubleDollar: false) : ExecArgument(word)));

    /// <summary>
    /// Whether systemd accepts <paramref name="path"/> as an Exec line's program: absolute, and free of the characters
    /// it calls special there (control characters, backslash, double and single quote; systemd 252).
    /// </summary>
    public static bool IsExecutablePath(string path) =>
        path.StartsWith('/') && !path.Any(c => c is < ' ' or '\x7f' or '\\' or '"' or '\'');

    private static string Quote(string word, bool doubleDollar)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word == ";")
        {
            return "\\;";
        }

        if (word.Length > 0 && word.All(IsPlain))
        {
            return word;
        }

        var text = new StringBuilder(word.Length + 8).Append('"');
        foreach (var c in word)
        {
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '"': text.Append("\\\""); break;
                case '%': text.Append("%%"); break;
                case '$': text.Append(doubleDollar ? "$$" : "$"); break;
                case < ' ' or '\x7f': text.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"); break;
                default: text.Append(c); break;
            }
        }

        return text.Append('"').ToString();
    }

    /// <summary>
    /// A free-text value (Description=): specifiers are expanded there too, so <c>%</c> is doubled; a line break or a
    /// trailing backslash would continue or end the line, so control characters become spaces and a final
    /// backslash is dropped.
    /// </summary>
    public static string Text(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = new string(value.Select(c => c is < ' ' or '\x7f' ? ' ' : c).ToArray()).Replace("%", "%%", StringComparison.Ordinal).Trim();
        return text.TrimEnd('\\');
    }

    /// <summary>Letters, digits and the punctuation systemd's word splitting and escaping leave alone.</summary>
    private static bool IsPlain(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '/' or '_' or '.' or ',' or ':' or '=' or '+' or '@' or '-';
}

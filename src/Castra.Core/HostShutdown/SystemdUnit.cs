using System.Text;

namespace Castra.HostShutdown;

/// <summary>
/// A systemd unit file as ordered sections of <c>Key=value</c> lines, with leading comment lines. Values are written
/// as given: callers quote them (<see cref="SystemdQuoting"/>); a value that would break the line is refused here.
/// </summary>
public sealed class SystemdUnit
{
    private readonly List<(string Section, List<(string Key, string Value)> Entries)> _sections = [];
    private readonly List<string> _comments = [];

    /// <summary>A comment line at the top of the file (without the leading <c>#</c>).</summary>
    public SystemdUnit Comment(string line)
    {
        _comments.Add(Checked(line, nameof(line)));
        return this;
    }

    /// <summary>Appends <c>key=value</c> to <paramref name="section"/> (created, in order of first use).</summary>
    public SystemdUnit Add(string section, string key, string value)
    {
        var entries = _sections.FirstOrDefault(s => s.Section == section).Entries;
        if (entries is null)
        {
            entries = [];
            _sections.Add((section, entries));
        }

        entries.Add((key, Checked(value, key)));
        return this;
    }

    /// <summary>The file's text: comments, then each section, separated by a blank line; one trailing newline.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        foreach (var comment in _comments)
        {
            text.Append("# ").Append(comment).Append('\n');
        }

        foreach (var (section, entries) in _sections)
        {
            text.Append('\n').Append('[').Append(section).Append("]\n");
            foreach (var (key, value) in entries)
            {
                text.Append(key).Append('=').Append(value).Append('\n');
            }
        }

        return text.ToString().TrimStart('\n');
    }

    private static string Checked(string value, string what)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Any(c => c is '\n' or '\r') || value.EndsWith('\\'))
        {
            // A line break would start a new key; a trailing backslash would continue the line into the next one.
            throw new ArgumentException($"{what}: a unit file value cannot contain a line break or end with a backslash", what);
        }

        return value;
    }
}

using System.Text;
using System.Text.RegularExpressions;
using Castra.State;

namespace Castra.Faces;

/// <summary>
/// Resolves the VM names a caller typed into VMs under the state root, with PowerShell's wildcard rules
/// (<c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[a-z]</c>, backtick escapes; wildcard patterns match case-insensitively).
/// A literal name is kept as typed, existing or not, so the caller reports "not found" for that VM alone;
/// a pattern that matches nothing yields nothing, as Get-ChildItem does.
/// </summary>
public static class VmNameSelector
{
    public static bool HasWildcards(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '`':
                    i++;
                    break;
                case '*' or '?' or '[':
                    return true;
            }
        }

        return false;
    }

    /// <summary>Distinct names, in the order first given (pattern matches sorted ordinally).</summary>
    public static IReadOnlyList<string> Resolve(StateRoot root, IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(patterns);
        IReadOnlyList<string>? existing = null;
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            if (!HasWildcards(pattern))
            {
                var literal = Unescape(pattern);
                if (seen.Add(literal))
                {
                    result.Add(literal);
                }

                continue;
            }

            existing ??= root.ListVmNames();
            var regex = ToRegex(pattern);
            foreach (var name in existing.Where(n => regex.IsMatch(n)))
            {
                if (seen.Add(name))
                {
                    result.Add(name);
                }
            }
        }

        return result;
    }

    public static bool IsMatch(string pattern, string name) =>
        HasWildcards(pattern) ? ToRegex(pattern).IsMatch(name) : string.Equals(Unescape(pattern), name, StringComparison.Ordinal);

    internal static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '`' when i + 1 < pattern.Length:
                    regex.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                case '*':
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        regex.Append(@"\[");
                        break;
                    }

                    var set = pattern[(i + 1)..close].Replace(@"\", @"\\", StringComparison.Ordinal).Replace("^", @"\^", StringComparison.Ordinal);
                    regex.Append('[').Append(set).Append(']');
                    i = close;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    private static string Unescape(string pattern)
    {
        if (!pattern.Contains('`', StringComparison.Ordinal))
        {
            return pattern;
        }

        var text = new StringBuilder(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '`' && i + 1 < pattern.Length)
            {
                i++;
            }

            text.Append(pattern[i]);
        }

        return text.ToString();
    }
}

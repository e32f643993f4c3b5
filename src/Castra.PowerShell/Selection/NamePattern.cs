using System.Management.Automation;

namespace Castra.PowerShell.Selection;

/// <summary>
/// A name as the user typed it, matched with PowerShell's own rules (<see cref="WildcardPattern"/>): a pattern with
/// wildcard characters matches case-insensitively; one without is a literal (after backtick unescaping) that must
/// match exactly, as a VM's directory name does.
/// </summary>
internal sealed class NamePattern
{
    private readonly WildcardPattern? _wildcard;

    private NamePattern(string text, WildcardPattern? wildcard, string literal)
    {
        Text = text;
        _wildcard = wildcard;
        Literal = literal;
    }

    public string Text { get; }

    public bool IsLiteral => _wildcard is null;

    /// <summary>The name a literal pattern stands for (backtick escapes removed).</summary>
    public string Literal { get; }

    /// <exception cref="WildcardPatternException">The pattern is not a valid wildcard pattern (e.g. <c>[]*</c>, <c>we[b</c>).</exception>
    public static NamePattern Parse(string text)
    {
        if (!WildcardPattern.ContainsWildcardCharacters(text))
        {
            return new NamePattern(text, null, WildcardPattern.Unescape(text));
        }

        var wildcard = WildcardPattern.Get(text, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
        _ = wildcard.IsMatch(""); // PowerShell validates a pattern on first use: do it here, once, where the error is reported.
        return new NamePattern(text, wildcard, text);
    }

    public bool IsMatch(string name) => _wildcard?.IsMatch(name) ?? string.Equals(Literal, name, StringComparison.Ordinal);
}

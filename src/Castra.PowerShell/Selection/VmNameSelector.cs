using System.Management.Automation;
using Castra.Errors;
using Castra.State;

namespace Castra.PowerShell.Selection;

/// <summary>
/// Resolves the VM names a caller typed into VMs under the state root. A literal name is kept as typed, existing or not,
/// so the caller reports "not found" for that VM alone; a pattern that matches nothing yields nothing, as
/// Get-ChildItem does; an invalid pattern is that pattern's error (CastraInvalidWildcard), never the others'.
/// </summary>
internal static class VmNameSelector
{
    public const string InvalidWildcard = "CastraInvalidWildcard";

    /// <summary>Distinct names, in the order first given (pattern matches sorted ordinally).</summary>
    /// <exception cref="CastraException">The VMs could not be listed (the state root or vms/ refused).</exception>
    public static IReadOnlyList<string> Resolve(StateRoot root, IEnumerable<string> patterns, Action<ErrorRecord> onError)
    {
        IReadOnlyList<string>? existing = null;
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in patterns)
        {
            if (TryParse(text, onError) is not { } pattern)
            {
                continue;
            }

            if (pattern.IsLiteral)
            {
                if (seen.Add(pattern.Literal))
                {
                    result.Add(pattern.Literal);
                }

                continue;
            }

            existing ??= root.ListVmNames();
            foreach (var name in existing.Where(pattern.IsMatch))
            {
                if (seen.Add(name))
                {
                    result.Add(name);
                }
            }
        }

        return result;
    }

    /// <summary>Null (and <paramref name="onError"/> told) when the text is not a valid wildcard pattern.</summary>
    public static NamePattern? TryParse(string text, Action<ErrorRecord> onError)
    {
        try
        {
            return NamePattern.Parse(text);
        }
        catch (WildcardPatternException ex)
        {
            onError(new ErrorRecord(ex, InvalidWildcard, ErrorCategory.InvalidArgument, text)
            {
                ErrorDetails = new ErrorDetails($"'{text}' is not a valid wildcard pattern: {ex.Message}"),
            });
            return null;
        }
    }
}

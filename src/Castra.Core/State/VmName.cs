using System.Text.RegularExpressions;
using Castra.Errors;

namespace Castra.State;

/// <summary>
/// VM names become directory names under the state root, so they are restricted to a safe alphabet:
/// letters, digits, '-', '_', '.'; starting with a letter or digit (so no "..", no hidden files, no options).
/// </summary>
public static partial class VmName
{
    public const int MaxLength = 64;

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]*\z", RegexOptions.CultureInvariant)] // \z: "$" would accept a trailing newline
    private static partial Regex Pattern();

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && Pattern().IsMatch(name);

    /// <exception cref="CastraException">ErrorId CastraInvalidVmName.</exception>
    public static string Validate(string? name)
    {
        if (IsValid(name))
        {
            return name!;
        }

        throw new CastraException(
            ErrorIds.InvalidVmName,
            CastraErrorCategory.InvalidArgument,
            $"'{name}' is not a valid VM name: use 1-{MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit.")
        {
            Target = name,
        };
    }
}

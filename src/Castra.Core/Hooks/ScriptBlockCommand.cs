using System.Text;

namespace Castra.Hooks;

/// <summary>
/// The pwsh command line for a script-block hook. -EncodedCommand (UTF-16LE, base64) carries any script text
/// without quoting trouble; the wrapper turns an error the script throws into exit code 1 with the error on stderr,
/// so a failing script block is a Failed hook, not a silent success.
/// </summary>
internal static class ScriptBlockCommand
{
    /// <param name="arguments">The hook's -ArgumentList: passed to the script block (param() or $args), each as a literal.</param>
    public static IReadOnlyList<string> Arguments(string script, IReadOnlyList<string>? arguments = null) =>
        ["-NoProfile", "-NonInteractive", "-EncodedCommand", Encode(Wrap(script, arguments ?? []))];

    public static string Wrap(string script, IReadOnlyList<string>? arguments = null) =>
        "$ErrorActionPreference = 'Stop'\n" +
        "try {\n& {\n" + script + "\n}" + string.Concat((arguments ?? []).Select(a => " " + Literal(a))) +
        "\n} catch {\n[Console]::Error.WriteLine($_.ToString())\nexit 1\n}\n";

    /// <summary>A PowerShell single-quoted string: nothing inside is expanded; quote characters (all four kinds PowerShell accepts) are doubled.</summary>
    public static string Literal(string value) =>
        "'" + string.Concat(value.Select(c => c is '\'' or '\u2018' or '\u2019' or '\u201A' or '\u201B' ? new string(c, 2) : c.ToString())) + "'";

    public static string Encode(string text) => Convert.ToBase64String(Encoding.Unicode.GetBytes(text));

    public static string Decode(string encoded) => Encoding.Unicode.GetString(Convert.FromBase64String(encoded));
}

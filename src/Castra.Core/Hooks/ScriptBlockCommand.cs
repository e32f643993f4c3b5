using System.Text;

namespace Castra.Hooks;

/// <summary>
/// The pwsh command line for a script-block hook. -EncodedCommand (UTF-16LE, base64) carries any script text
/// without quoting trouble; the wrapper turns an error the script throws into exit code 1 with the error on stderr,
/// so a failing script block is a Failed hook, not a silent success.
/// </summary>
internal static class ScriptBlockCommand
{
    public static IReadOnlyList<string> Arguments(string script) =>
        ["-NoProfile", "-NonInteractive", "-EncodedCommand", Encode(Wrap(script))];

    public static string Wrap(string script) =>
        "$ErrorActionPreference = 'Stop'\n" +
        "try {\n& {\n" + script + "\n}\n} catch {\n[Console]::Error.WriteLine($_.ToString())\nexit 1\n}\n";

    public static string Encode(string text) => Convert.ToBase64String(Encoding.Unicode.GetBytes(text));

    public static string Decode(string encoded) => Encoding.Unicode.GetString(Convert.FromBase64String(encoded));
}

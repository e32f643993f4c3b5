namespace Castra.Processes;

/// <summary>
/// A command line for people to read (session records, hook listings): arguments that need it are single-quoted,
/// POSIX-shell style, so what is shown can be pasted back into a shell.
/// </summary>
public static class CommandLineText
{
    public static string Format(string executable, IEnumerable<string> arguments) =>
        string.Join(" ", new[] { executable }.Concat(arguments).Select(Quote));

    public static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:,@%+".Contains(c, StringComparison.Ordinal))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

using System.CommandLine;
using Castra.State;

namespace Castra.Cli;

/// <summary>Options every command shares.</summary>
internal static class CommonOptions
{
    public static Option<string?> Home() => new("--home")
    {
        Description = $"State root (default: ${StateRoot.EnvironmentVariable}, else ~/.castra)",
        HelpName = "DIR",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON object per line instead of text",
    };

    public static Argument<string[]> Names(string description) => new("NAME")
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrMore,
    };
}

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

    /// <summary>
    /// The state root for a command that acts on existing VMs (down, status, ps, lists): one that does not exist is an
    /// error naming it and how it was chosen (CastraStateRootNotFound), never a silent "nothing to do".
    /// </summary>
    /// <exception cref="Castra.Errors.CastraException">CastraInvalidStateRoot, CastraStateRootNotFound.</exception>
    public static StateRoot ExistingRoot(string? home)
    {
        var root = StateRoot.Resolve(home);
        root.EnsureExists(CliWording.Instance);
        return root;
    }

    public static Argument<string[]> Names(string description) => new("NAME")
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrMore,
    };
}

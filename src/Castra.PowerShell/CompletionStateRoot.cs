using System.Collections;
using System.Management.Automation.Runspaces;
using Castra.State;

namespace Castra.PowerShell;

/// <summary>The state root a completer looks in: the command's -StateRoot if already typed, else the default.</summary>
internal static class CompletionStateRoot
{
    /// <returns>Null when the root cannot be resolved (no completions then, never an error while typing).</returns>
    public static StateRoot? Resolve(IDictionary fakeBoundParameters)
    {
        try
        {
            var typed = fakeBoundParameters.Contains("StateRoot") ? fakeBoundParameters["StateRoot"]?.ToString() : null;
            if (typed is not null && !Path.IsPathRooted(typed) && !typed.StartsWith('~')
                && Runspace.DefaultRunspace?.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath is { } here)
            {
                // Relative to PowerShell's location, as the cmdlets resolve it, not the process's directory.
                typed = Path.Combine(here, typed);
            }

            return StateRoot.Resolve(typed);
        }
        catch (Errors.CastraException)
        {
            return null;
        }
    }

    /// <summary>The word typed so far, without the quotes PowerShell passes along.</summary>
    public static string Prefix(string? wordToComplete) => (wordToComplete ?? "").Trim('\'', '"');
}

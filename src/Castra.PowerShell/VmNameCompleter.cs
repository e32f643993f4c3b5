using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Castra.State;

namespace Castra.PowerShell;

/// <summary>Tab completion of VM names under the state root (the command's -StateRoot if already typed).</summary>
public sealed class VmNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        ArgumentNullException.ThrowIfNull(fakeBoundParameters);
        StateRoot root;
        try
        {
            var typed = fakeBoundParameters.Contains("StateRoot") ? fakeBoundParameters["StateRoot"]?.ToString() : null;
            if (typed is not null && !Path.IsPathRooted(typed) && !typed.StartsWith('~')
                && Runspace.DefaultRunspace?.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath is { } here)
            {
                // Relative to PowerShell's location, as the cmdlets resolve it, not the process's directory.
                typed = Path.Combine(here, typed);
            }

            root = StateRoot.Resolve(typed);
        }
        catch (Errors.CastraException)
        {
            return [];
        }

        var prefix = (wordToComplete ?? "").Trim('\'', '"');
        return root.ListVmNames()
            .Where(name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
    }
}

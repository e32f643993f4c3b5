using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Castra.PowerShell;

/// <summary>Tab completion of VM names under the state root (the command's -StateRoot if already typed).</summary>
public sealed class VmNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        ArgumentNullException.ThrowIfNull(fakeBoundParameters);
        if (CompletionStateRoot.Resolve(fakeBoundParameters) is not { } root)
        {
            return [];
        }

        var prefix = CompletionStateRoot.Prefix(wordToComplete);
        return root.ListVmNames()
            .Where(name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
    }
}

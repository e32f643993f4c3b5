using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Castra.Hooks;

namespace Castra.PowerShell;

/// <summary>Tab completion of registered cleanup hook names (from hooks.json under the -StateRoot typed, else the default).</summary>
public sealed class HookNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        ArgumentNullException.ThrowIfNull(fakeBoundParameters);
        if (CompletionStateRoot.Resolve(fakeBoundParameters) is not { } root)
        {
            return [];
        }

        IReadOnlyList<CleanupHook> hooks;
        try
        {
            hooks = new HookStore(root, PowerShellWording.Instance).List();
        }
        catch (Errors.CastraException)
        {
            return []; // An unreadable hooks.json is reported by the cmdlet, not while typing.
        }

        var prefix = CompletionStateRoot.Prefix(wordToComplete);
        return hooks
            .GroupBy(h => h.Name, StringComparer.Ordinal)
            .Where(g => g.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(g => new CompletionResult(g.Key, g.Key, CompletionResultType.ParameterValue,
                string.Join("; ", g.Select(h => $"{h.Describe()} for {(h.VmName == HookScope.AllVms ? "every VM" : h.VmName)}"))));
    }
}

using System.Management.Automation;
using Castra.Errors;
using Castra.PowerShell.Selection;
using Castra.Hooks;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the cleanup hooks registered under the state root, in the order a shutdown runs them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CastraCleanupHook")]
[OutputType(typeof(CleanupHook))]
public sealed class GetCastraCleanupHookCommand : CastraCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(HookNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? VmName { get; set; }

    [Parameter]
    public HookStage? Stage { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveExistingStateRoot();
        IReadOnlyList<CleanupHook> hooks;
        try
        {
            hooks = new HookStore(root, PowerShellWording.Instance).List();
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        var vmPatterns = VmName?.Select(p => VmNameSelector.TryParse(p, WriteError)).OfType<NamePattern>().ToList();
        var selected = hooks
            .Where(h => vmPatterns is null || vmPatterns.Any(pattern => pattern.IsMatch(h.VmName)))
            .Where(h => Stage is null || string.Equals(h.Stage, Stage.ToString(), StringComparison.OrdinalIgnoreCase))
            .ToList();
        var matched = new HashSet<CleanupHook>(ReferenceEqualityComparer.Instance);
        foreach (var text in Name)
        {
            if (VmNameSelector.TryParse(text, WriteError) is not { } pattern)
            {
                continue;
            }

            var matches = selected.Where(h => pattern.IsMatch(h.Name)).ToList();
            if (matches.Count == 0 && pattern.IsLiteral)
            {
                // As Get-Process does: a literal name that matches nothing is that name's error; patterns may match nothing.
                WriteError(ErrorRecords.From(new CastraException(ErrorIds.HookNotFound, CastraErrorCategory.ObjectNotFound,
                    $"No hook named '{pattern.Literal}'{(VmName is null && Stage is null ? "" : " matching -VmName/-Stage")} is registered under {root.Path}.")
                { Target = pattern.Literal }));
            }

            matched.UnionWith(matches);
        }

        // In the store's order (stage, priority, name): the order a shutdown runs them.
        foreach (var hook in selected.Where(matched.Contains))
        {
            WriteObject(hook);
        }
    }
}

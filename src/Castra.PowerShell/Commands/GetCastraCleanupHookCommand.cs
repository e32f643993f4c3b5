using System.Management.Automation;
using Castra.Errors;
using Castra.Faces;
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
        var root = ResolveStateRoot();
        IReadOnlyList<CleanupHook> hooks;
        try
        {
            hooks = new HookStore(root).List();
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        var selected = hooks
            .Where(h => VmName is null || VmName.Any(pattern => VmNameSelector.IsMatch(pattern, h.VmName)))
            .Where(h => Stage is null || string.Equals(h.Stage, Stage.ToString(), StringComparison.OrdinalIgnoreCase))
            .ToList();
        var matched = new HashSet<CleanupHook>(ReferenceEqualityComparer.Instance);
        foreach (var pattern in Name)
        {
            var matches = selected.Where(h => VmNameSelector.IsMatch(pattern, h.Name)).ToList();
            if (matches.Count == 0 && !VmNameSelector.HasWildcards(pattern))
            {
                // As Get-Process does: a literal name that matches nothing is that name's error; patterns may match nothing.
                WriteError(ErrorRecords.From(new CastraException(ErrorIds.HookNotFound, CastraErrorCategory.ObjectNotFound,
                    $"No hook named '{pattern}'{(VmName is null && Stage is null ? "" : " matching -VmName/-Stage")} is registered under {root.Path}.")
                { Target = pattern }));
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

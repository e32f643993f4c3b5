using System.Management.Automation;
using Castra.Errors;
using Castra.Hooks;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Removes registered cleanup hooks, by name or as piped from Get-CastraCleanupHook.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Unregister, "CastraCleanupHook", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(CleanupHook))]
public sealed class UnregisterCastraCleanupHookCommand : CastraCmdletBase
{
    private const string NameSet = "Name";
    private const string InputObjectSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(HookNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? VmName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public CleanupHook[] InputObject { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            foreach (var hook in InputObject)
            {
                // A piped hook knows where it is registered; -StateRoot is only the fallback for one that does not.
                var root = string.IsNullOrWhiteSpace(hook.StateRoot) ? ResolveStateRoot() : new StateRoot(hook.StateRoot);
                Unregister(root, hook.Name, hook.VmName);
            }

            return;
        }

        var given = ResolveStateRoot();
        foreach (var name in Name)
        {
            Unregister(given, name, VmName);
        }
    }

    private void Unregister(StateRoot root, string name, string? vmName)
    {
        var scope = vmName switch
        {
            null => "",
            HookScope.AllVms => " for every VM",
            _ => $" for VM '{vmName}'",
        };
        if (!ShouldProcess($"Unregister hook '{name}'{scope} under {root.Path}", $"Unregister hook '{name}'{scope}?", "Unregister-CastraCleanupHook"))
        {
            return;
        }

        try
        {
            var removed = new HookStore(root, PowerShellWording.Instance).Unregister(name, vmName);
            if (PassThru)
            {
                WriteObject(removed);
            }
        }
        catch (CastraException ex)
        {
            WriteError(ErrorRecords.From(ex));
        }
    }
}

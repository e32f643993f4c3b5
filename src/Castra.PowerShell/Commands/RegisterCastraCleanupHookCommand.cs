using System.Globalization;
using System.Management.Automation;
using Castra.Errors;
using Castra.Hooks;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Registers a cleanup hook: a script block or program that every shutdown of the VM (or of every VM) runs before or after QEMU stops.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "CastraCleanupHook", DefaultParameterSetName = ScriptBlockSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(CleanupHook))]
public sealed class RegisterCastraCleanupHookCommand : CastraCmdletBase
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string FilePathSet = "FilePath";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string VmName { get; set; } = HookScope.AllVms;

    [Parameter]
    public HookStage Stage { get; set; } = HookStage.PreStop;

    [Parameter]
    [ValidateRange(11, 1000)]
    public int Priority { get; set; } = HookLimits.DefaultPriority;

    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double Timeout { get; set; } = HookLimits.DefaultTimeoutMs / 1000.0;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ScriptBlockSet)]
    [ValidateNotNull]
    public ScriptBlock? ScriptBlock { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = FilePathSet)]
    [ValidateNotNullOrEmpty]
    public string FilePath { get; set; } = "";

    /// <summary>Arguments for the program, or values for the script block (its param() or $args): what it needs from this session.</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[] ArgumentList { get; set; } = [];

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ScriptBlock is not null && !CheckScriptBlock(ScriptBlock))
        {
            return;
        }

        var root = ResolveStateRoot();
        var scope = VmName == HookScope.AllVms ? "every VM" : $"VM '{VmName}'";
        var what = ParameterSetName == ScriptBlockSet ? "a script block" : FilePath;
        var description = string.Format(CultureInfo.InvariantCulture, "Register {0} hook '{1}' for {2} (priority {3}, up to {4}s): runs {5}{6}. State root: {7}.",
            Stage, Name, scope, Priority, Timeout, what, Force ? "; replaces a hook of the same name" : "", root.Path);
        if (!ShouldProcess(description, $"Register hook '{Name}' for {scope}?", "Register-CastraCleanupHook"))
        {
            return;
        }

        var registration = new HookRegistration
        {
            Name = Name,
            VmName = VmName,
            Stage = Stage,
            Priority = Priority,
            Timeout = TimeSpan.FromSeconds(Timeout),
            Executable = ParameterSetName == FilePathSet ? PowerShellHost.Program(this, FilePath) : null,
            Arguments = ArgumentList,
            ScriptBlock = ScriptBlock?.ToString(),
            PowerShellPath = ScriptBlock is null ? null : PowerShellHost.PwshPath(this),
            WorkingDirectory = PowerShellHost.CurrentDirectory(this),
        };

        try
        {
            var hook = new HookStore(root, PowerShellWording.Instance).Register(registration, replace: Force);
            WriteVerbose($"Registered {hook.Describe()} for {scope}: {hook.Executable} (state root {root.Path})");
            if (PassThru)
            {
                WriteObject(hook);
            }
        }
        catch (CastraException ex)
        {
            WriteError(ErrorRecords.From(ex));
        }
    }

    /// <summary>
    /// The hook runs in a new pwsh at shutdown: $using: is refused (it has nothing to refer to there), and variables
    /// the block reads without setting are a warning (they are empty there; pass them with -ArgumentList).
    /// </summary>
    private bool CheckScriptBlock(ScriptBlock block)
    {
        if (Hooks.ScriptBlockVariables.Using(block) is { Count: > 0 } usings)
        {
            WriteError(ErrorRecords.From(new CastraException(ErrorIds.InvalidHook, CastraErrorCategory.InvalidArgument,
                $"The hook's script block uses {string.Join(", ", usings)}: $using: has nothing to refer to, because the hook runs later in a new pwsh at shutdown. " +
                "Pass the value with -ArgumentList and read it with param() or $args, e.g. -ScriptBlock { param($dest) ... } -ArgumentList $dest.")
            { Target = Name }));
            return false;
        }

        if (Hooks.ScriptBlockVariables.Free(block) is { Count: > 0 } free)
        {
            WriteWarning($"Hook '{Name}': the script block reads {string.Join(", ", free.Select(v => "$" + v))} without setting it; the hook runs later in a new pwsh at shutdown, " +
                "where it is empty. Pass values with -ArgumentList and read them with param() or $args.");
        }

        return true;
    }
}

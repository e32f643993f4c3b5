using Castra.Text;

namespace Castra.PowerShell;

/// <summary>The module's own parameter and cmdlet names for what the engine's messages point to.</summary>
internal sealed class PowerShellWording : Wording
{
    public static PowerShellWording Instance { get; } = new();

    public override string Name(Term term) => term switch
    {
        Term.ReplaceHook => "-Force",
        Term.HookVm => "-VmName",
        Term.StateRoot => "-StateRoot",
        Term.QemuPath => "-QemuPath",
        Term.SoftwareEmulation => "-Accelerator tcg",
        Term.Ephemeral => "-Ephemeral",
        Term.Kernel => "-Kernel",
        Term.Initrd => "-Initrd",
        Term.Append => "-Append",
        Term.Disk => "-Disk",
        Term.GuestAgent => "-GuestAgent",
        Term.TurnOff => "-TurnOff",
        Term.Method => "-Method",
        Term.CooperativeTimeout => "-CooperativeTimeout",
        Term.TermTimeout => "-TermTimeout",
        Term.KillTimeout => "-KillTimeout",
        Term.Reason => "-Reason",
        Term.Message => "-Message",
        Term.HookErrorAction => "-HookErrorAction",
        Term.DrainTimeout => "-DrainTimeout",
        Term.SaveState => "-SaveState",
        Term.ReplaceUnit => "-Force",
        Term.ShutdownOrder => "-ShutdownOrder",
        Term.GroupDelay => "-GroupDelay",
        Term.IgnoreOrder => "-IgnoreOrder",
        Term.Save => "-Save",
        Term.Escalation => "-Escalation",
        Term.SaveTimeout => "-SaveTimeout",
        Term.DiscardSavedState => "-DiscardSavedState",
        _ => term.ToString(),
    };

    public override string StartCommand(string vm, bool guestAgent = false) =>
        guestAgent ? $"Start-CastraVm {vm} -GuestAgent" : $"Start-CastraVm {vm}";

    public override string StopCommand(string vm) => $"Stop-CastraVm {vm}";
}

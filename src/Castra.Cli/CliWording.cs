using Castra.Text;

namespace Castra.Cli;

/// <summary>The castra command line's own names for what the engine's messages point to.</summary>
internal sealed class CliWording : Wording
{
    public static CliWording Instance { get; } = new();

    public override string Name(Term term) => term switch
    {
        Term.ReplaceHook => "--force",
        Term.HookVm => "--vm",
        Term.StateRoot => "--home",
        Term.QemuPath => "--qemu PATH",
        Term.SoftwareEmulation => "--accel tcg",
        Term.Ephemeral => "--ephemeral",
        Term.Kernel => "--kernel",
        Term.Initrd => "--initrd",
        Term.Append => "--append",
        Term.Disk => "--disk",
        Term.GuestAgent => "--agent",
        Term.TurnOff => "--force",
        Term.Method => "--method",
        Term.CooperativeTimeout => "--cooperative-timeout",
        Term.TermTimeout => "--term-timeout",
        Term.KillTimeout => "--kill-timeout",
        Term.Reason => "--reason",
        Term.Message => "--message",
        Term.HookErrorAction => "--hook-error",
        Term.DrainTimeout => "--drain-timeout",
        Term.SaveState => "--save-state",
        Term.ReplaceUnit => "--force",
        Term.ShutdownOrder => "--shutdown-order",
        Term.GroupDelay => "--group-delay",
        Term.IgnoreOrder => "--ignore-order",
        Term.Save => "--save",
        Term.Escalation => "--escalation",
        Term.SaveTimeout => "--save-timeout",
        Term.DiscardSavedState => "--discard-saved-state",
        _ => term.ToString(),
    };

    public override string StartCommand(string vm, bool guestAgent = false) => guestAgent ? $"castra up {vm} --agent" : $"castra up {vm}";

    public override string StopCommand(string vm) => $"castra down {vm}";
}

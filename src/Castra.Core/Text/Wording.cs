namespace Castra.Text;

/// <summary>
/// How a face spells the options and commands the engine's messages refer to. The engine words its messages once and
/// asks the face for these names, so a PowerShell user reads <c>Start-CastraVm -GuestAgent</c> where a CLI user reads
/// <c>castra up --agent</c>, and the engine itself names no face's syntax.
/// </summary>
public abstract class Wording
{
    /// <summary>For callers of the library itself: names the concept, not any face's syntax.</summary>
    public static Wording Neutral { get; } = new NeutralWording();

    /// <summary>The option as typed, e.g. <c>-Force</c> or <c>--force</c>.</summary>
    public abstract string Name(Term term);

    /// <summary>The command that starts <paramref name="vm"/> (with its guest agent channel when asked).</summary>
    public abstract string StartCommand(string vm, bool guestAgent = false);

    /// <summary>The command that stops <paramref name="vm"/>.</summary>
    public abstract string StopCommand(string vm);

    private sealed class NeutralWording : Wording
    {
        public override string Name(Term term) => term switch
        {
            Term.ReplaceHook => "the option to replace an existing hook",
            Term.HookVm => "the hook's VM name",
            Term.StateRoot => "the state root option",
            Term.QemuPath => "the QEMU path option",
            Term.SoftwareEmulation => "software emulation (accelerator tcg)",
            Term.Ephemeral => "the ephemeral option",
            Term.Kernel => "a kernel",
            Term.Initrd => "an initrd",
            Term.Append => "a kernel command line",
            Term.Disk => "a disk image",
            Term.GuestAgent => "the guest agent option",
            Term.TurnOff => "turning the VM off without asking the guest",
            Term.Method => "the cooperative method",
            Term.CooperativeTimeout => "the cooperative timeout",
            Term.TermTimeout => "the SIGTERM wait",
            Term.KillTimeout => "the SIGKILL wait",
            Term.Reason => "the reason",
            Term.Message => "the message",
            Term.HookErrorAction => "the hook error action",
            Term.DrainTimeout => "the session drain timeout",
            Term.SaveState => "the debug snapshot",
            Term.ReplaceUnit => "the option to replace a unit file Castra did not write",
            Term.ShutdownOrder => "the shutdown order",
            Term.GroupDelay => "the group delay",
            Term.IgnoreOrder => "the option to ignore the shutdown order",
            Term.Save => "saving instead of powering off",
            Term.Escalation => "the escalation",
            Term.SaveTimeout => "the save timeout",
            Term.DiscardSavedState => "discarding the saved state",
            _ => term.ToString(),
        };

        public override string StartCommand(string vm, bool guestAgent = false) =>
            guestAgent ? $"a start of VM '{vm}' with its guest agent channel" : $"a start of VM '{vm}'";

        public override string StopCommand(string vm) => $"a shutdown of VM '{vm}'";
    }
}

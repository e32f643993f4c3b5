using Castra.Qmp;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>One-line remediation hints for the cooperative step's failure paths (CooperativeTimedOut.Hint).</summary>
internal static class Remediation
{
    public static string NoQmpSocket(VmPaths vm) =>
        $"start QEMU with -qmp unix:{vm.QmpSocket},server=on,wait=off so Castra can press the ACPI power button";

    public static string NoAgentSocket(VmPaths vm, Text.Wording wording) =>
        $"start QEMU with a guest agent channel on {vm.AgentSocket} ({wording.StartCommand(vm.Name, guestAgent: true)}) and run qemu-ga in the guest, or use the ACPI method";

    public const string AgentNotAnswering =
        "make sure qemu-ga runs in the guest (systemctl status qemu-guest-agent) and nothing else holds qga.sock, or use the ACPI method";

    /// <summary>The agent sent bytes that are not valid QMP, the wrong reply, or a stream of messages.</summary>
    public const string AgentMisbehaving =
        "the guest agent channel sent malformed or unexpected data (the guest controls qga.sock): check qemu-ga in the guest, or use the ACPI method";

    /// <summary>The hint for an agent failure of this kind.</summary>
    public static string ForAgent(QmpErrorKind kind) => kind switch
    {
        QmpErrorKind.ProtocolError or QmpErrorKind.MalformedMessage or QmpErrorKind.Flooded => AgentMisbehaving,
        QmpErrorKind.PeerNotQemu or QmpErrorKind.NotASocket => AgentSocketNotQemu,
        _ => AgentNotAnswering,
    };

    /// <summary>qga.sock is not the VM's QEMU's socket (another process serves it, or it is a link or a file).</summary>
    public const string AgentSocketNotQemu =
        "qga.sock is not served by the VM's QEMU (another process listens there, or it is not a socket): remove it or stop that process; nothing was sent through it";

    public const string GuestIgnoredAgent =
        "the guest agent accepted guest-shutdown but the guest did not power off: check the guest's shutdown, or raise the cooperative timeout";

    public static string GuestIgnoredPowerButton(string optionName) =>
        $"make the guest OS handle the ACPI power button (acpid or systemd-logind), or raise {optionName} if it needs longer";

    /// <summary>What to do when the identity proofs disagree (CastraIdentityDisputed).</summary>
    public static string IdentityDisputed(VmPaths vm, int? pid) =>
        $"check what runs there (ps -o user,args -p {(pid is { } p ? p.ToString(System.Globalization.CultureInfo.InvariantCulture) : "PID")}; " +
        $"ss -xlp | grep {vm.QmpSocket}) and who wrote the VM's files; if it is the VM's QEMU under another name, stop it yourself " +
        "(Castra signals only qemu-system-* or qemu-kvm), otherwise remove the stale qemu.pid or qmp.sock";

    public static string For(QmpErrorKind kind, VmPaths vm, Text.Wording wording) => kind switch
    {
        QmpErrorKind.SocketMissing => NoQmpSocket(vm),
        QmpErrorKind.SocketPathTooLong => $"use a shorter state root (CASTRA_HOME or {wording.Name(Text.Term.StateRoot)}) or VM name: Unix socket paths are limited to 107 bytes",
        QmpErrorKind.ConnectionRefused => $"QEMU no longer listens on {vm.QmpSocket}: it was killed or is exiting; the process is checked and signalled next",
        QmpErrorKind.ConnectTimeout or QmpErrorKind.GreetingTimeout =>
            "QEMU is not serving QMP: it may be stopped (SIGSTOP, debugger) or another client holds the monitor (QEMU serves one at a time); disconnect other QMP clients",
        QmpErrorKind.NotQmp => $"{vm.QmpSocket} is not a QMP monitor: start QEMU with -qmp unix:{vm.QmpSocket},server=on,wait=off (not -monitor or -serial)",
        QmpErrorKind.ReplyTimeout => "QEMU stopped answering QMP: it may be stopped or badly overloaded",
        QmpErrorKind.CommandFailed => "QEMU refused the power button request; check the machine type supports ACPI (not -no-acpi)",
        QmpErrorKind.Disconnected => "QEMU closed the QMP connection: it may be exiting, or another tool is misusing the monitor",
        QmpErrorKind.PeerNotQemu =>
            $"another process serves {vm.QmpSocket} (ss -xlp | grep {vm.QmpSocket}): remove it or stop that process; nothing was sent through it, and Castra escalates to signals to the proven QEMU",
        QmpErrorKind.NotASocket => $"{vm.QmpSocket} is not a socket (a link or a file): remove it; QEMU creates the socket itself with -qmp unix:…,server=on,wait=off",
        QmpErrorKind.ProtocolError or QmpErrorKind.MalformedMessage or QmpErrorKind.Flooded =>
            $"{vm.QmpSocket} does not behave like QEMU's QMP monitor (malformed, mistyped or flooding messages): check which process serves it (ss -xlp), and that it is the VM's QEMU; Castra escalates to signals",
        _ => $"check that QEMU serves QMP on {vm.QmpSocket}",
    };
}

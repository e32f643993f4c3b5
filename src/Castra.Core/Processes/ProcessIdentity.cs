namespace Castra.Processes;

/// <summary>
/// Decides whether a pinned process is this VM's QEMU before Castra signals it (docs/events.md, Process identity).
/// Verified needs both: the process executes QEMU (<see cref="QemuExecutable"/>), and a fact that cannot go stale
/// ties it to the VM: (1) its command line names the VM's qmp.sock or qemu.pid; (2) it holds the listening socket
/// bound to the VM's qmp.sock; (3) its start time and the boot id are the ones a trusted vm.json recorded.
/// A tie without QEMU (tail -f qemu.pid, a socat serving qmp.sock), or a QEMU tied only by an untrusted vm.json, is
/// Disputed; no tie at all is NotOurs. The facts are read after the process is pinned and kept only if the pin still
/// holds afterwards, so they are that process's, not a successor's with the same PID.
/// </summary>
internal static class ProcessIdentity
{
    public static IdentityResult Verify(TrackedProcess process, IdentityContext context)
    {
        try
        {
            return VerifyPinned(process, context);
        }
#pragma warning disable CA1031 // Identity code never throws: anything unexpected leaves the identity unproven.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new IdentityResult(IdentityVerdict.Disputed, $"the identity of PID {process.Pid} could not be checked ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private static IdentityResult VerifyPinned(TrackedProcess process, IdentityContext context)
    {
        var pid = process.Pid;
        var facts = ProcessFacts.Read(pid);
        if (facts is null || process.HasExited)
        {
            return Exited(pid);
        }

        var vm = context.Vm;
        var named = CommandLineTie.Names(facts, vm);
        var startMatches = context.StartTimeMatches(facts.Stat);
        var trustedStart = startMatches && context.DefinitionTrusted;

        // Scanning the fd table (and asking sock_diag) is the one costly proof: only when nothing cheaper decides.
        bool? holds = null;
        if (named is null && !trustedStart && (facts.IsQemu || !startMatches))
        {
            holds = context.HoldsQmpListener(pid);
        }

        if (process.HasExited)
        {
            return Exited(pid);
        }

        var tie = named is not null ? $"its command line names {named}"
            : trustedStart ? "its start time and boot id are the ones vm.json recorded"
            : holds == true ? $"it holds the socket listening on {vm.QmpSocket}"
            : startMatches ? "vm.json records its start time and boot id, but vm.json is not trusted (not owned by root or by the user running Castra)"
            : null;

        if (facts.IsQemu && (named is not null || trustedStart || holds == true))
        {
            return new IdentityResult(IdentityVerdict.Verified, $"{facts.Label} is a QEMU and {tie}", facts, tie);
        }

        if (tie is null)
        {
            return new IdentityResult(IdentityVerdict.NotOurs, NoTie(facts, context, holds), facts);
        }

        return facts.IsQemu
            ? new IdentityResult(IdentityVerdict.Disputed,
                $"{facts.Label} is a QEMU, but only vm.json ties it to this VM, and vm.json is not trusted (not owned by root or by the user running Castra): " +
                $"its command line names neither {vm.PidFile} nor {vm.QmpSocket}, and it does not hold the VM's QMP socket",
                facts, tie)
            : new IdentityResult(IdentityVerdict.Disputed,
                $"{facts.Label} is tied to this VM ({tie}) but is not a QEMU executable ({QemuExecutable.Rule})", facts, tie);
    }

    private static IdentityResult Exited(int pid) => new(IdentityVerdict.Exited, $"QEMU (PID {pid}) is no longer running");

    private static string NoTie(ProcessFacts facts, IdentityContext context, bool? holds)
    {
        var vm = context.Vm;
        var what = facts.IsQemu ? $"{facts.Label} is a QEMU, but not this VM's" : $"{facts.Label} is not this VM's QEMU";
        var socket = holds is null ? "whether it holds the VM's QMP socket could not be checked" : "it does not hold the VM's QMP socket";
        return $"{what}: its command line names neither {vm.PidFile} nor {vm.QmpSocket}, its start time does not match vm.json, and {socket}";
    }
}

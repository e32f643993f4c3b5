namespace Castra.Processes;

internal enum IdentityVerdict
{
    /// <summary>No such process, or a zombie: the VM's QEMU is gone.</summary>
    Exited,

    /// <summary>Proven to be this VM's QEMU: a QEMU executable tied to the VM by a fact that cannot go stale.</summary>
    Verified,

    /// <summary>A live process with no tie to this VM at all (stale pidfile, recycled PID): never signalled.</summary>
    NotOurs,

    /// <summary>
    /// Something ties a process to this VM (its command line names the VM's files, it serves the VM's qmp.sock, the
    /// pidfile or vm.json names it) but another proof contradicts it (not a QEMU executable; the socket served by a
    /// process other than the one the pidfile names), or the proofs could not be checked: never signalled, and the
    /// shutdown fails with CastraIdentityDisputed so that a person looks.
    /// </summary>
    Disputed,
}

/// <param name="Facts">What was read about the process (null when it had exited or was never read).</param>
/// <param name="Tie">What ties it to the VM, as a phrase ("its command line names …"), or null.</param>
internal sealed record IdentityResult(IdentityVerdict Verdict, string Detail, ProcessFacts? Facts = null, string? Tie = null);

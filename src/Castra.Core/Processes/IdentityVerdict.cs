namespace Castra.Processes;

internal enum IdentityVerdict
{
    /// <summary>No such process, or a zombie: the VM's QEMU is gone.</summary>
    Exited,

    /// <summary>Proven to be this VM's QEMU.</summary>
    Verified,

    /// <summary>A live process that is not provably this VM's QEMU (stale pidfile, recycled PID): never signalled.</summary>
    NotOurs,
}

internal sealed record IdentityResult(IdentityVerdict Verdict, string Detail);

using System.Globalization;
using Castra.Processes;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>What the pidfile leads to.</summary>
internal sealed record LocatedProcess(IdentityVerdict? Verdict, TrackedProcess? Process, int? Pid, string Detail)
{
    /// <summary>Set when the pidfile was stale but the VM's QEMU was found through its socket.</summary>
    public string? StalePidFile { get; init; }
}

/// <summary>
/// Reads the VM's pidfile, opens a handle on that process and proves it is the VM's QEMU. The handle is opened
/// before the identity check, so the check applies to the very process later signalled through it.
/// </summary>
internal static class ProcessLocator
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromMilliseconds(500);

    public static async Task<LocatedProcess> LocateAsync(VmDirectory dir, VmDefinition? definition, bool usePidfd, CancellationToken cancellationToken)
    {
        var vm = dir.Paths;
        var pidFile = PidFile.Read(dir);
        if (!pidFile.Exists)
        {
            // No pidfile, but a QEMU may still serve the VM's own QMP socket (started without -pidfile): the kernel
            // tells which process listens there, and a socket inside the VM's directory is proof enough.
            if (await SocketPeer.TryGetPidAsync(vm.QmpSocket, PeerTimeout, cancellationToken).ConfigureAwait(false) is { } peer
                && TrackedProcess.Open(peer, usePidfd) is { } served)
            {
                return new LocatedProcess(IdentityVerdict.Verified, served, peer, $"no pidfile, but {vm.QmpSocket} is served by PID {peer}");
            }

            return new LocatedProcess(null, null, null, $"no pidfile at {vm.PidFile}: the VM is not running");
        }

        if (pidFile.Pid is not { } pid)
        {
            return new LocatedProcess(IdentityVerdict.NotOurs, null, null, pidFile.Problem!);
        }

        var process = TrackedProcess.Open(pid, usePidfd);
        if (process is null)
        {
            return new LocatedProcess(IdentityVerdict.Exited, null, pid, $"QEMU (PID {pid}) is no longer running");
        }

        var identity = await ProcessIdentity.VerifyAsync(pid, vm, definition, cancellationToken).ConfigureAwait(false);
        if (identity.Verdict != IdentityVerdict.Verified)
        {
            process.Dispose();

            // The pidfile is stale, but the VM may still run under another PID (pidfile overwritten, QEMU restarted
            // by hand): whoever serves the VM's own qmp.sock is its QEMU.
            if (await SocketPeer.TryGetPidAsync(vm.QmpSocket, PeerTimeout, cancellationToken).ConfigureAwait(false) is { } peer && peer != pid
                && TrackedProcess.Open(peer, usePidfd) is { } served)
            {
                return new LocatedProcess(IdentityVerdict.Verified, served, peer, $"the pidfile named PID {pid}, but {vm.QmpSocket} is served by PID {peer}") { StalePidFile = identity.Detail };
            }

            return new LocatedProcess(identity.Verdict, null, pid, identity.Detail);
        }

        return new LocatedProcess(IdentityVerdict.Verified, process, pid, identity.Detail);
    }
}

using Castra.Processes;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>What the pidfile (or, without one, the VM's qmp.sock) leads to.</summary>
internal sealed record LocatedProcess(IdentityVerdict? Verdict, TrackedProcess? Process, int? Pid, string Detail)
{
    /// <summary>Set when the pidfile was stale but the VM's QEMU was found through its socket.</summary>
    public string? StalePidFile { get; init; }

    /// <summary>What the look found, as the plan, ShutdownComplete and the audit line record it.</summary>
    public QemuFound Found => Verdict switch
    {
        null => QemuFound.NotRunning,
        IdentityVerdict.Exited => QemuFound.Exited,
        IdentityVerdict.NotOurs => QemuFound.Stale,
        IdentityVerdict.Disputed => QemuFound.Disputed,
        _ => QemuFound.Running,
    };
}

/// <summary>
/// Reads the VM's pidfile, pins that process and proves it is the VM's QEMU (<see cref="ProcessIdentity"/>). When the
/// pidfile is missing or names no proven QEMU, whoever serves the VM's qmp.sock is examined the same way. The pin comes
/// before the proofs, so they apply to the very process later signalled through it. Only a Verified result carries a
/// process; every other one means "signal nothing".
/// </summary>
internal static class ProcessLocator
{
    /// <summary>How long a QEMU caught inside its own exit gets to be gone before its unproven identity stands.</summary>
    internal static readonly TimeSpan ExitingGrace = TimeSpan.FromSeconds(5);

    public static async Task<LocatedProcess> LocateAsync(VmDirectory dir, VmDefinition? definition, bool usePidfd, CancellationToken cancellationToken)
    {
        var vm = dir.Paths;
        var context = new IdentityContext(vm, definition, dir);
        var pidFile = PidFile.Read(dir);
        if (!pidFile.Exists)
        {
            // No pidfile, but a QEMU may still serve the VM's own QMP socket (started without -pidfile).
            var served = await SocketServer.FindAsync(context, usePidfd, cancellationToken).ConfigureAwait(false);
            return served.Verdict switch
            {
                IdentityVerdict.Verified => new LocatedProcess(IdentityVerdict.Verified, served.Process, served.Pid, $"no pidfile, but {served.Detail}"),
                IdentityVerdict.Disputed => new LocatedProcess(IdentityVerdict.Disputed, null, served.Pid, $"identity disputed: there is no pidfile, and {served.Detail}"),
                _ => new LocatedProcess(null, null, null, $"no pidfile at {vm.PidFile}: the VM is not running"),
            };
        }

        if (pidFile.Pid is not { } pid)
        {
            // A pidfile that names no PID (damaged, refused: a FIFO, a link) hides nothing: the VM's QEMU may still
            // serve its qmp.sock, and is found and proven the same way as without a pidfile.
            var found = await SocketServer.FindAsync(context, usePidfd, cancellationToken).ConfigureAwait(false);
            return found.Verdict switch
            {
                IdentityVerdict.Verified => new LocatedProcess(IdentityVerdict.Verified, found.Process, found.Pid, found.Detail) { StalePidFile = pidFile.Problem },
                IdentityVerdict.Disputed => new LocatedProcess(IdentityVerdict.Disputed, null, found.Pid, $"identity disputed: {pidFile.Problem}, and {found.Detail}"),
                _ => new LocatedProcess(IdentityVerdict.NotOurs, null, null, pidFile.Problem!),
            };
        }

        var process = TrackedProcess.Open(pid, usePidfd);
        var identity = process is null
            ? new IdentityResult(IdentityVerdict.Exited, $"QEMU (PID {pid}) is no longer running")
            : ProcessIdentity.Verify(process, context);

        // A QEMU powering off removes its pidfile as it exits: read just before that, the pidfile names a process that
        // is already inside exit(), whose memory may be gone, so its executable and command line read as nothing and
        // the proofs fail (a vm.json tie then even reads as "disputed"). It is no candidate: it is what an exited QEMU
        // is a moment later, so it is treated as one once it is gone.
        if (identity.Verdict is IdentityVerdict.Disputed or IdentityVerdict.NotOurs && process is not null
            && ProcStat.TryRead(pid) is { IsExiting: true }
            && await process.WaitForExitAsync(ExitingGrace, cancellationToken).ConfigureAwait(false))
        {
            identity = new IdentityResult(IdentityVerdict.Exited, $"QEMU (PID {pid}) exited as Castra examined it");
        }

        if (identity.Verdict == IdentityVerdict.Verified)
        {
            return new LocatedProcess(identity.Verdict, process, pid, identity.Detail);
        }

        process?.Dispose();

        // The pidfile's process has exited, is stale or disputed, but the VM may still run under another PID (pidfile
        // overwritten, QEMU restarted by hand without -pidfile): a QEMU proven to serve the VM's own qmp.sock is its QEMU.
        var server = await SocketServer.FindAsync(context, usePidfd, cancellationToken).ConfigureAwait(false);
        switch (server.Verdict)
        {
            case IdentityVerdict.Verified when server.Pid == pid:
                return new LocatedProcess(IdentityVerdict.Verified, server.Process, pid, server.Detail);
            case IdentityVerdict.Verified:
                return new LocatedProcess(IdentityVerdict.Verified, server.Process, server.Pid, $"the pidfile named PID {pid}, but {server.Detail}") { StalePidFile = identity.Detail };
            case IdentityVerdict.Disputed:
                return new LocatedProcess(IdentityVerdict.Disputed, null, pid,
                    $"identity disputed: the pidfile names PID {pid}, which is not proven ({identity.Detail}), and {server.Detail}");
        }

        if (identity.Verdict == IdentityVerdict.Disputed)
        {
            var socket = server.Verdict is null ? $"; {server.Detail}" : "";
            return new LocatedProcess(IdentityVerdict.Disputed, null, pid, $"identity disputed (the pidfile names PID {pid}): {identity.Detail}{socket}");
        }

        // The pidfile's QEMU has exited and nothing else serves the VM's socket: the VM is down.
        return new LocatedProcess(identity.Verdict, null, pid, identity.Detail);
    }
}

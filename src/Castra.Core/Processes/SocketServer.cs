namespace Castra.Processes;

/// <summary>Who serves a VM's qmp.sock. Verdict null: nothing does. Only a Verified result carries a (pinned) process.</summary>
internal sealed record ServedBy(IdentityVerdict? Verdict, TrackedProcess? Process, int? Pid, string Detail);

/// <summary>
/// Finds the process serving a VM's qmp.sock and proves it the way a pidfile's process is proven. The kernel's peer
/// credentials name the process that called listen(); if that one has exited or no longer holds the socket (a QEMU
/// that forked, a recycled PID), the live holders of the listening socket are searched in /proc instead, a scan paid
/// only on this rare path.
/// </summary>
internal static class SocketServer
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromMilliseconds(500);

    public static async Task<ServedBy> FindAsync(IdentityContext context, bool usePidfd, CancellationToken cancellationToken)
    {
        try
        {
            return await FindUncheckedAsync(context, usePidfd, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Identity code never throws: anything unexpected leaves the server unproven.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new ServedBy(IdentityVerdict.Disputed, null, null,
                $"who serves {context.Vm.QmpSocket} could not be checked ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private static async Task<ServedBy> FindUncheckedAsync(IdentityContext context, bool usePidfd, CancellationToken cancellationToken)
    {
        var path = context.Vm.QmpSocket;
        if (context.QmpNode is null)
        {
            // Missing, or not a socket: a symlink named qmp.sock is never followed to somebody else's socket.
            return new ServedBy(null, null, null, $"no socket at {path}");
        }

        var peer = await SocketPeer.ConnectAsync(context.QmpConnectPath, usePidfd, ConnectTimeout, cancellationToken).ConfigureAwait(false);
        if (peer is null)
        {
            return new ServedBy(null, null, null, $"nothing accepts connections on {path}");
        }

        string listener;
        if (peer.Process is { } candidate)
        {
            var identity = ProcessIdentity.Verify(candidate, context);
            switch (identity.Verdict)
            {
                case IdentityVerdict.Verified:
                    return new ServedBy(IdentityVerdict.Verified, candidate, candidate.Pid, Describe(path, identity, peer.Mechanism));
                case IdentityVerdict.Disputed:
                    candidate.Dispose();
                    return new ServedBy(IdentityVerdict.Disputed, null, candidate.Pid, Describe(path, identity, peer.Mechanism));
            }

            candidate.Dispose();
            listener = identity.Verdict == IdentityVerdict.Exited
                ? $"the process that listened (PID {candidate.Pid}) has exited"
                : $"PID {candidate.Pid}, named by {peer.Mechanism}, does not hold it ({identity.Detail})";
        }
        else
        {
            listener = $"the process that listened{(peer.Pid is { } gone ? $" (PID {gone})" : "")} has exited";
        }

        return FromHolders(context, usePidfd, path, listener);
    }

    /// <summary>The rare path: the listener's process is gone or recycled; who holds its socket now?</summary>
    private static ServedBy FromHolders(IdentityContext context, bool usePidfd, string path, string listener)
    {
        if (context.QmpListeners is not { } listeners)
        {
            return new ServedBy(IdentityVerdict.Disputed, null, null,
                $"{path} accepts connections, but {listener} and which process holds the socket could not be determined (sock_diag and /proc/net/unix unavailable)");
        }

        if (listeners.Inodes.Count == 0)
        {
            return new ServedBy(null, null, null, $"nothing listens on {path} any more");
        }

        IdentityResult? disputed = null;
        var holders = FdTable.Holders(listeners.Inodes);
        foreach (var pid in holders)
        {
            var process = TrackedProcess.Open(pid, usePidfd);
            if (process is null)
            {
                continue;
            }

            var identity = ProcessIdentity.Verify(process, context);
            if (identity.Verdict == IdentityVerdict.Verified)
            {
                return new ServedBy(IdentityVerdict.Verified, process, pid, Describe(path, identity, $"it holds the socket; {listener}"));
            }

            process.Dispose();
            disputed ??= identity.Verdict == IdentityVerdict.Disputed ? identity : null;
        }

        if (disputed is not null)
        {
            return new ServedBy(IdentityVerdict.Disputed, null, disputed.Facts?.Pid, Describe(path, disputed, $"it holds the socket; {listener}"));
        }

        return new ServedBy(IdentityVerdict.Disputed, null, null,
            holders.Count == 0
                ? $"{path} accepts connections, but {listener} and no process Castra can see holds the socket (another PID namespace?)"
                : $"{path} accepts connections, but {listener} and its holders could not be proven");
    }

    /// <summary>One clause for the result's detail: who serves the socket, how that is known, and what it is.</summary>
    private static string Describe(string path, IdentityResult identity, string how) => identity switch
    {
        { Facts: null } => $"{path} is served by a process whose identity could not be checked ({identity.Detail}; {how})",
        { Verdict: IdentityVerdict.Verified } => $"{path} is served by {identity.Facts.Label} ({how}), a QEMU: {identity.Tie}",
        { Facts.IsQemu: false } => $"{path} is served by {identity.Facts.Label} ({how}), which is not a QEMU executable ({QemuExecutable.Rule})",
        _ => $"{path} is served ({how}) by a QEMU that cannot be proven: {identity.Detail}",
    };
}

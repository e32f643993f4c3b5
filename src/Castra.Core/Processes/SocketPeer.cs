using System.Net.Sockets;
using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// What the kernel says about the other end of a connected Unix socket. For a connection to a listener that is the
/// process that called listen(), as of that call: a claim, not a proof (it may have forked and exited, and with
/// SO_PEERCRED its number may belong to someone else by now), so every answer is verified before anything is signalled.
/// </summary>
/// <param name="Pidfd">The peer's pidfd (SO_PEERPIDFD, Linux 6.5+): exactly that process, alive or not. Owned by the caller.</param>
/// <param name="Pid">The peer's PID when known (for a reaped peer of SO_PEERPIDFD it is not).</param>
/// <param name="Mechanism">"SO_PEERPIDFD" or "SO_PEERCRED".</param>
internal sealed record PeerCredentials(PidfdHandle? Pidfd, int? Pid, string Mechanism) : IDisposable
{
    /// <summary>True when the peer is known to have exited (only a pidfd can tell).</summary>
    public bool Exited => Pidfd is { } fd && (fd.IsClosed || PidfdInfo.HasExited((int)fd.DangerousGetHandle()));

    public void Dispose() => Pidfd?.Dispose();
}

/// <summary>A pinned peer process (null when it has exited), with how it was learned.</summary>
internal sealed record SocketPeerProcess(TrackedProcess? Process, int? Pid, string Mechanism);

internal static class SocketPeer
{
    /// <summary>For tests, in the calling flow only: behave as on a kernel without SO_PEERPIDFD (before Linux 6.5).</summary>
    internal static readonly AsyncLocal<bool> WithoutPeerPidfd = new();

    /// <summary>Connects to a Unix socket and pins its listener's process; null when nothing accepts connections there.</summary>
    public static async Task<SocketPeerProcess?> ConnectAsync(string socketPath, bool usePidfd, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() || System.Text.Encoding.UTF8.GetByteCount(socketPath) > State.VmPaths.MaxSocketPathBytes)
        {
            return null;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            // The kernel completes a connect into the listen backlog even if QEMU never accepts (e.g. stopped).
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }

        using var peer = Read(socket);
        return peer is null ? null : Pin(peer, usePidfd);
    }

    /// <summary>The peer of a connected socket: SO_PEERPIDFD where the kernel has it, else SO_PEERCRED. Null if neither answers.</summary>
    public static PeerCredentials? Read(Socket connected)
    {
        try
        {
            var buffer = new byte[sizeof(int)];
            if (!WithoutPeerPidfd.Value && connected.GetRawSocketOption(Libc.SOL_SOCKET, Libc.SO_PEERPIDFD, buffer) == sizeof(int))
            {
                var pidfd = new PidfdHandle(BitConverter.ToInt32(buffer));
                return new PeerCredentials(pidfd, PidfdInfo.TryGetPid((int)pidfd.DangerousGetHandle()), "SO_PEERPIDFD");
            }
        }
        catch (SocketException)
        {
            // ENOPROTOOPT before Linux 6.5; ESRCH for a reaped peer on some kernels: SO_PEERCRED's number then, verified later.
        }

        try
        {
            var cred = new byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            connected.GetRawSocketOption(Libc.SOL_SOCKET, Libc.SO_PEERCRED, cred);
            var pid = BitConverter.ToInt32(cred, 0);
            return pid > 0 ? new PeerCredentials(null, pid, "SO_PEERCRED") : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>A handle on the peer's process (pidfd, or the polling fallback pinned while the peer's pidfd shows it alive).</summary>
    private static SocketPeerProcess Pin(PeerCredentials peer, bool usePidfd)
    {
        if (peer.Pid is not { } pid || peer.Exited)
        {
            return new SocketPeerProcess(null, peer.Pid, peer.Mechanism);
        }

        if (peer.Pidfd is { } pidfd && usePidfd)
        {
            // Ownership of the pidfd moves to the tracked process.
            var process = TrackedProcess.FromPidfd(new PidfdHandle((int)pidfd.DangerousGetHandle()), pid);
            pidfd.SetHandleAsInvalid();
            return new SocketPeerProcess(process, pid, peer.Mechanism);
        }

        var opened = TrackedProcess.Open(pid, usePidfd);
        if (opened is not null && peer.Exited)
        {
            // The peer died while its number was being pinned: what was pinned may be a successor.
            opened.Dispose();
            opened = null;
        }

        return new SocketPeerProcess(opened, pid, peer.Mechanism);
    }
}

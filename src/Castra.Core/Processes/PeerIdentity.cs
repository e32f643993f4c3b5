using System.Globalization;
using System.Net.Sockets;
using Castra.Native;

namespace Castra.Processes;

/// <summary>Whether a connection is served by the VM's proven QEMU, and why (for a diagnostic when it is not).</summary>
internal sealed record PeerCheck(bool Served, string Detail);

/// <summary>
/// For the channel code: after connecting to qmp.sock (or qga.sock), prove that the process at the other end is the
/// QEMU the identity check pinned, before trusting anything it says. A path is only a name: between the identity
/// check and the connect, anyone able to write to the VM's directory could have put another listener there.
/// <para>
/// 1. SO_PEERPIDFD (Linux 6.5+) names the process that called listen(): if that is the QEMU (same PID number while
/// both are alive), done. 2. Otherwise (another process listened, or it has exited: a QEMU that forked after
/// listen(); or SO_PEERPIDFD is missing and SO_PEERCRED's number could be recycled) the QEMU must hold the socket this
/// connection is queued on, or the one that accepted it, by sock_diag; without sock_diag, SO_PEERCRED's number must
/// be the QEMU's and the QEMU must hold a listener bound to the peer's path (/proc/net/unix).
/// </para>
/// Never throws; anything unexpected is "not served".
/// </summary>
internal static class PeerIdentity
{
    /// <summary>True when <paramref name="connected"/>'s peer is <paramref name="qemu"/>.</summary>
    public static bool IsServedBy(Socket connected, TrackedProcess qemu) => Check(connected, qemu).Served;

    public static PeerCheck Check(Socket connected, TrackedProcess qemu)
    {
        ArgumentNullException.ThrowIfNull(connected);
        ArgumentNullException.ThrowIfNull(qemu);
        try
        {
            return CheckCore(connected, qemu);
        }
#pragma warning disable CA1031 // Identity code never throws: anything unexpected leaves the peer unproven.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new PeerCheck(false, $"the peer of the connection could not be checked ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private static PeerCheck CheckCore(Socket connected, TrackedProcess qemu)
    {
        if (qemu.HasExited)
        {
            return new PeerCheck(false, $"QEMU (PID {qemu.Pid}) has exited");
        }

        using var peer = SocketPeer.Read(connected);
        string how;
        if (peer?.Pidfd is not null && !peer.Exited && peer.Pid is { } listener)
        {
            // Both alive, same number: the same process. Order matters: the peer is checked alive after its number
            // was read, and the QEMU (pinned long before) after that.
            if (listener == qemu.Pid && !peer.Exited && !qemu.HasExited)
            {
                return new PeerCheck(true, $"served by PID {listener}, the VM's QEMU (SO_PEERPIDFD)");
            }

            // Another live process listened: an impostor, unless it handed the socket to QEMU (then QEMU holds it).
            how = $"{Label(listener)} listened (SO_PEERPIDFD)";
        }
        else
        {
            how = peer is null ? "no peer credentials" : peer.Pidfd is not null ? "the process that listened has exited" : $"SO_PEERCRED names PID {peer.Pid}";
        }

        var ours = FdTable.SocketInode(Libc.ReadLink($"/proc/self/fd/{connected.Handle.ToInt64().ToString(CultureInfo.InvariantCulture)}"));
        if (ours is { } inode && inode <= uint.MaxValue && SockDiag.Listeners(withPending: true) is { } listeners)
        {
            // Still queued: on whose listener? Already accepted: who holds the accepted end?
            var queuedOn = listeners.FirstOrDefault(l => l.Pending.Contains((uint)inode));
            if (queuedOn is not null && FdTable.Holds(qemu.Pid, new HashSet<ulong> { queuedOn.Inode }) && !qemu.HasExited)
            {
                return new PeerCheck(true, $"queued on a listening socket that QEMU (PID {qemu.Pid}) holds ({how})");
            }

            if (SockDiag.Exact((uint)inode)?.Peer is { } accepted && FdTable.Holds(qemu.Pid, new HashSet<ulong> { accepted }) && !qemu.HasExited)
            {
                return new PeerCheck(true, $"accepted by QEMU (PID {qemu.Pid}) ({how})");
            }

            return new PeerCheck(false, $"neither queued on nor accepted by a socket that QEMU (PID {qemu.Pid}) holds ({how})");
        }

        // No sock_diag: the weaker proof by path.
        if (peer is { Pidfd: null, Pid: { } credited } && credited == qemu.Pid
            && connected.RemoteEndPoint is UnixDomainSocketEndPoint { } remote && remote.ToString() is { Length: > 0 } path
            && ProcNetUnix.ListenersBoundTo(path) is { Count: > 0 } bound && FdTable.Holds(qemu.Pid, bound) && !qemu.HasExited)
        {
            return new PeerCheck(true, $"SO_PEERCRED names PID {credited}, the VM's QEMU, which holds a listener bound to {path} (/proc/net/unix)");
        }

        return new PeerCheck(false, $"not proven to be served by QEMU (PID {qemu.Pid}): {how}, and sock_diag is unavailable");
    }

    private static string Label(int pid) => ProcessFacts.Read(pid) is { } facts ? facts.Label : $"PID {pid}";
}

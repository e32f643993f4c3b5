using System.Diagnostics;
using System.Text;
using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// The kernel's own account of Unix sockets (NETLINK_SOCK_DIAG, UNIX_DIAG; what <c>ss -xlp</c> reads): which
/// listening socket is bound to which file, and who is queued on it. Unlike /proc/net/unix it names the bound file
/// by device and inode, so a socket file that was unlinked and bound again, or another file with the same path
/// spelling, is never mistaken for it. Null answers mean "unavailable" (no unix_diag module, netlink blocked):
/// callers then fall back or stay unproven. Bounded in time and size; never throws.
/// </summary>
internal static class SockDiag
{
    private const ushort SOCK_DIAG_BY_FAMILY = 20;
    private const ushort NLM_F_REQUEST = 0x1;
    private const ushort NLM_F_DUMP = 0x300;
    private const ushort NLMSG_ERROR = 2;
    private const ushort NLMSG_DONE = 3;

    private const uint UDIAG_SHOW_NAME = 0x1;
    private const uint UDIAG_SHOW_VFS = 0x2;
    private const uint UDIAG_SHOW_PEER = 0x4;
    private const uint UDIAG_SHOW_ICONS = 0x8;

    private const ushort UNIX_DIAG_NAME = 0;
    private const ushort UNIX_DIAG_VFS = 1;
    private const ushort UNIX_DIAG_PEER = 2;
    private const ushort UNIX_DIAG_ICONS = 3;

    private const int TCP_LISTEN = 10;
    private const int HeaderSize = 16;
    private const int RequestSize = 24;
    private const int MessageSize = 16;

    /// <summary>A host with a million Unix sockets stays below this; beyond it the answer is "unavailable".</summary>
    private const int MaxReplyBytes = 64 * 1024 * 1024;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private static int _sequence;

    /// <summary>Every listening Unix socket of the host (its network namespace), or null when unavailable.</summary>
    public static IReadOnlyList<UnixSocketInfo>? Listeners(bool withPending) =>
        Query(1u << TCP_LISTEN, 0, UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | (withPending ? UDIAG_SHOW_ICONS : 0), dump: true);

    /// <summary>One socket by inode (its peer included), or null when it does not exist or sock_diag is unavailable.</summary>
    public static UnixSocketInfo? Exact(uint inode) =>
        Query(uint.MaxValue, inode, UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER, dump: false) is [var one] ? one : null;

    private static unsafe List<UnixSocketInfo>? Query(uint states, uint inode, uint show, bool dump)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_SOCK_DIAG);
        if (fd < 0)
        {
            return null;
        }

        try
        {
            var sequence = (uint)Interlocked.Increment(ref _sequence);
            var request = new byte[HeaderSize + RequestSize];
            var span = request.AsSpan();
            BitConverter.TryWriteBytes(span, (uint)request.Length); // netlink is host-endian
            BitConverter.TryWriteBytes(span[4..], SOCK_DIAG_BY_FAMILY);
            BitConverter.TryWriteBytes(span[6..], (ushort)(NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0)));
            BitConverter.TryWriteBytes(span[8..], sequence);
            span[16] = Libc.AF_UNIX;
            BitConverter.TryWriteBytes(span[20..], states);
            BitConverter.TryWriteBytes(span[24..], inode);
            BitConverter.TryWriteBytes(span[28..], show);
            BitConverter.TryWriteBytes(span[32..], uint.MaxValue); // cookie: "any" (INET_DIAG_NOCOOKIE)
            BitConverter.TryWriteBytes(span[36..], uint.MaxValue);
            fixed (byte* p = request)
            {
                if (Libc.send(fd, p, request.Length, 0) != request.Length)
                {
                    return null;
                }
            }

            return Receive(fd, sequence, dump);
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    private static unsafe List<UnixSocketInfo>? Receive(int fd, uint sequence, bool dump)
    {
        var results = new List<UnixSocketInfo>();
        var buffer = new byte[64 * 1024];
        var received = 0L;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var left = Timeout - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            var poll = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            var ready = Libc.poll(&poll, 1, (int)Math.Ceiling(left.TotalMilliseconds));
            if (ready < 0 && Libc.LastError == Libc.EINTR)
            {
                continue;
            }

            if (ready <= 0)
            {
                return null;
            }

            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.recv(fd, p, buffer.Length, 0);
            }

            if (n <= 0 || (received += n) > MaxReplyBytes)
            {
                return null;
            }

            switch (Parse(buffer.AsSpan(0, (int)n), sequence, results))
            {
                case ParseState.Done:
                    return results;
                case ParseState.Failed:
                    return dump ? null : results;
                case ParseState.More when !dump && results.Count > 0:
                    return results;
            }
        }
    }

    private enum ParseState
    {
        More,
        Done,
        Failed,
    }

    private static ParseState Parse(ReadOnlySpan<byte> data, uint sequence, List<UnixSocketInfo> results)
    {
        var offset = 0;
        while (offset + HeaderSize <= data.Length)
        {
            var length = (int)BitConverter.ToUInt32(data[offset..]);
            var type = BitConverter.ToUInt16(data[(offset + 4)..]);
            var seq = BitConverter.ToUInt32(data[(offset + 8)..]);
            if (length < HeaderSize || offset + length > data.Length)
            {
                return ParseState.Failed;
            }

            if (seq == sequence)
            {
                if (type == NLMSG_DONE)
                {
                    return ParseState.Done;
                }

                if (type == NLMSG_ERROR)
                {
                    // An exact query for a socket that does not exist answers ENOENT: an empty, complete answer.
                    return ParseState.Failed;
                }

                if (type == SOCK_DIAG_BY_FAMILY && ParseMessage(data.Slice(offset + HeaderSize, length - HeaderSize)) is { } info)
                {
                    results.Add(info);
                }
            }

            offset += (length + 3) & ~3;
        }

        return ParseState.More;
    }

    private static UnixSocketInfo? ParseMessage(ReadOnlySpan<byte> body)
    {
        if (body.Length < MessageSize)
        {
            return null;
        }

        var inode = BitConverter.ToUInt32(body[4..]);
        string? name = null;
        uint? vfsInode = null, vfsDevice = null, peer = null;
        var pending = new List<uint>();
        var offset = MessageSize;
        while (offset + 4 <= body.Length)
        {
            var length = BitConverter.ToUInt16(body[offset..]);
            var type = BitConverter.ToUInt16(body[(offset + 2)..]);
            if (length < 4 || offset + length > body.Length)
            {
                break;
            }

            var payload = body.Slice(offset + 4, length - 4);
            switch (type)
            {
                case UNIX_DIAG_NAME when payload.Length > 0 && payload[0] != 0:
                    // Abstract names start with NUL and have no file; a path is NUL-terminated if bind() passed one.
                    var end = payload.IndexOf((byte)0);
                    name = Encoding.UTF8.GetString(end < 0 ? payload : payload[..end]);
                    break;
                case UNIX_DIAG_VFS when payload.Length >= 8:
                    vfsInode = BitConverter.ToUInt32(payload);
                    vfsDevice = BitConverter.ToUInt32(payload[4..]);
                    break;
                case UNIX_DIAG_PEER when payload.Length >= 4:
                    peer = BitConverter.ToUInt32(payload);
                    break;
                case UNIX_DIAG_ICONS:
                    for (var i = 0; i + 4 <= payload.Length; i += 4)
                    {
                        pending.Add(BitConverter.ToUInt32(payload[i..]));
                    }

                    break;
            }

            offset += (length + 3) & ~3;
        }

        return new UnixSocketInfo(inode, name, vfsDevice, vfsInode, peer is 0 ? null : peer, pending);
    }
}

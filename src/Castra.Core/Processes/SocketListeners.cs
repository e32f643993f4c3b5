using Castra.Native;

namespace Castra.Processes;

/// <summary>The listening sockets bound to one socket file, and how that was established.</summary>
/// <param name="Inodes">Empty when nothing listens there.</param>
/// <param name="Source">"sock_diag" (device and inode of the bound file) or "/proc/net/unix" (its path only).</param>
internal sealed record ListenerSet(IReadOnlySet<ulong> Inodes, string Source);

/// <summary>Finds which listening Unix sockets are bound to a socket file (such as a VM's qmp.sock).</summary>
internal static class SocketListeners
{
    /// <summary>
    /// The listeners bound to <paramref name="socketPath"/>; an empty set when the path is not a socket (missing,
    /// a regular file, a symlink) or nothing listens on it; null when the kernel could not be asked.
    /// </summary>
    public static ListenerSet? Find(string socketPath) => Find(SocketNode.TryGet(socketPath), socketPath);

    /// <summary>As <see cref="Find(string)"/>, for a socket file already examined (<paramref name="node"/> null: none there).</summary>
    public static ListenerSet? Find(SocketNode? socket, string socketPath)
    {
        if (socket is not { } node)
        {
            return new ListenerSet(new HashSet<ulong>(), "lstat");
        }

        if (SockDiag.Listeners(withPending: false) is { } listeners)
        {
            var bound = listeners.Where(l => node.Matches(l) && BoundHere(l.Name, socketPath)).Select(l => (ulong)l.Inode).ToHashSet();
            return new ListenerSet(bound, "sock_diag");
        }

        return ProcNetUnix.ListenersBoundTo(socketPath) is { } byPath ? new ListenerSet(byPath, "/proc/net/unix") : null;
    }

    /// <summary>
    /// The path given to bind() must be this one (or another spelling of its directory). Device and inode alone would
    /// also accept a hard link of another VM's socket made into this VM's directory.
    /// A relative path cannot be checked (it was relative to the binder's directory at the time) and is accepted.
    /// </summary>
    private static bool BoundHere(string? name, string socketPath)
    {
        if (name is null || !Path.IsPathRooted(name) || string.Equals(name, socketPath, StringComparison.Ordinal))
        {
            return true;
        }

        return string.Equals(Path.GetFileName(name), Path.GetFileName(socketPath), StringComparison.Ordinal)
            && Libc.RealPath(Path.GetDirectoryName(name)!) is { } boundDir
            && string.Equals(boundDir, Libc.RealPath(Path.GetDirectoryName(socketPath)!), StringComparison.Ordinal);
    }
}

namespace Castra.Processes;

/// <summary>
/// What the kernel's sock_diag says about one Unix socket: its inode (the N of "socket:[N]" in /proc/PID/fd), the path
/// it was bound to, the device and inode of the file that bind() created (kernel dev_t: major &lt;&lt; 20 | minor), the
/// inode of its peer, and, for a listener, the inodes of the client sockets waiting in its accept queue.
/// </summary>
internal sealed record UnixSocketInfo(uint Inode, string? Name, uint? VfsDevice, uint? VfsInode, uint? Peer, IReadOnlyList<uint> Pending);

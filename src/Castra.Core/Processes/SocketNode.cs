using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// The file a Unix socket is bound to, by device and inode (lstat: a symlink named qmp.sock is not a socket, whatever
/// it points to). This is what sock_diag reports for a listener (UNIX_DIAG_VFS), so a listener is matched to the
/// VM's socket file itself, not to a path spelling.
/// </summary>
internal readonly record struct SocketNode(uint DeviceMajor, uint DeviceMinor, ulong Inode)
{
    /// <summary>The kernel's internal dev_t, as sock_diag reports it.</summary>
    public uint KernelDevice => (DeviceMajor << 20) | DeviceMinor;

    public bool Matches(UnixSocketInfo socket) =>
        socket.VfsDevice == KernelDevice && socket.VfsInode == unchecked((uint)Inode);

    /// <summary>Null when the path does not exist or is not a socket (a regular file, a symlink, a directory).</summary>
    public static unsafe SocketNode? TryGet(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = stackalloc byte[Libc.StatxSize];
        if (Libc.statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_TYPE | Libc.STATX_INO, buffer) != 0)
        {
            return null;
        }

        // struct statx: stx_mode (u16) at 28, stx_ino (u64) at 32, stx_dev_major/minor (u32) at 136/140.
        var mode = *(ushort*)(buffer + 28);
        if ((mode & Libc.S_IFMT) != Libc.S_IFSOCK)
        {
            return null;
        }

        return new SocketNode(*(uint*)(buffer + 136), *(uint*)(buffer + 140), *(ulong*)(buffer + 32));
    }
}

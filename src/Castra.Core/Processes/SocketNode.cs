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
    public static SocketNode? TryGet(string path)
    {
        if (!OperatingSystem.IsLinux() || Libc.LStatAt(Libc.AT_FDCWD, path, out var stat) != 0 || !stat.IsSocket)
        {
            return null;
        }

        return Of(stat);
    }

    /// <summary>The node of a socket already examined (e.g. through a directory descriptor).</summary>
    public static SocketNode Of(Libc.FileStat stat) =>
        // FileStat.Device packs statx's major (high 32 bits) and minor (low 32 bits).
        new((uint)(stat.Device >> 32), (uint)stat.Device, stat.Inode);
}

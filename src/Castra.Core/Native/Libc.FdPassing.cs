using System.Runtime.InteropServices;

namespace Castra.Native;

/// <summary>Passing a file descriptor over a Unix socket (SCM_RIGHTS), as QMP's getfd and add-fd expect.</summary>
internal static partial class Libc
{
    public const int SCM_RIGHTS = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_DONTWAIT = 0x40;
    public const int EAGAIN = 11;

    [LibraryImport(Lib, EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint sendmsg(int fd, MsgHdr* message, int flags);

    /// <summary>
    /// Sends <paramref name="data"/> with <paramref name="passedFd"/> attached (one SCM_RIGHTS message), without
    /// blocking: the bytes sent (the descriptor travels with the first byte), or -1 with the errno in LastError.
    /// </summary>
    public static unsafe nint SendWithFd(int socketFd, ReadOnlySpan<byte> data, int passedFd)
    {
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } followed by the int, padded to 8 bytes.
        const int headerSize = 16;
        var control = stackalloc byte[24];
        new Span<byte>(control, 24).Clear();
        *(nuint*)control = headerSize + sizeof(int);
        *(int*)(control + 8) = SOL_SOCKET;
        *(int*)(control + 12) = SCM_RIGHTS;
        *(int*)(control + headerSize) = passedFd;
        fixed (byte* bytes = data)
        {
            var vector = new IoVec { Base = bytes, Length = (nuint)data.Length };
            var message = new MsgHdr { Iov = &vector, IovLen = 1, Control = control, ControlLen = 24 };
            nint sent;
            do
            {
                sent = sendmsg(socketFd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            while (sent < 0 && LastError == EINTR);
            return sent;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (LP64 Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLen;
        public IoVec* Iov;
        public nuint IovLen;
        public void* Control;
        public nuint ControlLen;
        public int Flags;
    }
}

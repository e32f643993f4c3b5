using Castra.Native;
using Microsoft.Win32.SafeHandles;

namespace Castra.Processes;

/// <summary>Owns a pidfd: a reference to one specific process that a recycled PID can never redirect.</summary>
internal sealed class PidfdHandle : SafeHandleMinusOneIsInvalid
{
    public PidfdHandle(int fd)
        : base(ownsHandle: true) => SetHandle(fd);

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}

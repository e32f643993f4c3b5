using Castra.Native;
using Microsoft.Win32.SafeHandles;

namespace Castra.State;

/// <summary>
/// The per-VM orchestration lock: an exclusive, non-blocking flock(2) on <c>locks/&lt;name&gt;</c> at the state root
/// (a directory only root or the caller can change, unlike a VM's own directory). The kernel
/// drops it when the holder exits, however it exits, which is what lets the next caller take over from an owner
/// that died. Held per open file description, so two callers in one process exclude each other too.
/// </summary>
internal sealed class VmLock : IDisposable
{
    private const int EWOULDBLOCK = 11;

    private readonly SafeFileHandle _handle;

    private VmLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Null when another caller holds the lock.</summary>
    /// <exception cref="IOException">The lock file is unsafe (<see cref="UnsafeStateFileException"/>) or cannot be opened.</exception>
    public static VmLock? TryAcquire(VmDirectory vm)
    {
        SafeFileHandle handle;
        using (var locks = vm.OpenLocks())
        {
            handle = locks.OpenForWriting(vm.Name, StateDirectory.WriteMode.Keep);
        }

        while (Libc.flock((int)handle.DangerousGetHandle(), Libc.LOCK_EX | Libc.LOCK_NB) != 0)
        {
            var errno = Libc.LastError;
            if (errno == Libc.EINTR)
            {
                continue;
            }

            handle.Dispose();
            return errno == EWOULDBLOCK ? null : throw new IOException($"cannot lock {vm.Paths.LockFile}: {Libc.ErrorText(errno)}");
        }

        return new VmLock(handle);
    }

    public void Dispose() => _handle.Dispose();
}

using Castra.Native;

namespace Castra.State;

/// <summary>
/// The per-VM orchestration lock: an exclusive, non-blocking flock(2) on <c>vms/&lt;name&gt;/lock</c>. The kernel
/// drops it when the holder exits, however it exits, which is what lets the next caller take over from an owner
/// that died. Held per open file description, so two callers in one process exclude each other too.
/// </summary>
internal sealed class VmLock : IDisposable
{
    private readonly FileStream _stream;

    private VmLock(FileStream stream) => _stream = stream;

    /// <summary>Null when another caller holds the lock.</summary>
    public static VmLock? TryAcquire(VmPaths vm)
    {
        FileStream stream;
        try
        {
            // FileShare.None makes .NET take flock(LOCK_EX|LOCK_NB) itself; it throws when someone holds the lock.
            stream = new FileStream(vm.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(vm.LockFile))
        {
            return null;
        }

        // Take it explicitly as well: .NET's own locking can be switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING).
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            if (Libc.flock((int)stream.SafeFileHandle.DangerousGetHandle(), Libc.LOCK_EX | Libc.LOCK_NB) != 0)
            {
                stream.Dispose();
                return null;
            }
        }

        return new VmLock(stream);
    }

    public void Dispose() => _stream.Dispose();
}

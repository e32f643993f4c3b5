using Castra.Native;

namespace Castra.State;

/// <summary>
/// A short, blocking, exclusive flock(2) around a read-modify-write of a shared file (hooks.json, a session record):
/// two registrations from two sessions at once must not lose one another.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    public static FileLock Acquire(string lockPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);

        // FileShare.ReadWrite: .NET would otherwise take a non-blocking lock itself and fail instead of waiting.
        var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            while (Libc.flock((int)stream.SafeFileHandle.DangerousGetHandle(), Libc.LOCK_EX) != 0)
            {
                if (Libc.LastError != Libc.EINTR)
                {
                    stream.Dispose();
                    throw new IOException($"could not lock {lockPath}: {Libc.ErrorText(Libc.LastError)}");
                }
            }
        }

        return new FileLock(stream);
    }

    public void Dispose() => _stream.Dispose();
}

using Castra.Native;
using Microsoft.Win32.SafeHandles;

namespace Castra.State;

/// <summary>
/// A short, blocking, exclusive flock(2) around a read-modify-write of a shared file (hooks.json, a session record):
/// two registrations from two sessions at once must not lose one another. Opened like every state file (no link
/// followed, a regular 0600 file owned by root or the caller).
/// </summary>
internal sealed class FileLock : IDisposable
{
    private const int EWOULDBLOCK = 11;

    /// <summary>Holders keep it for a read-modify-write of a small file (milliseconds): this bound only stops a hang.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    /// <exception cref="IOException">The lock file is unsafe, cannot be opened, or stayed locked for 10 s.</exception>
    public static FileLock Acquire(StateDirectory directory, string name)
    {
        var handle = directory.OpenForWriting(name, StateDirectory.WriteMode.Keep);
        var since = System.Diagnostics.Stopwatch.GetTimestamp();
        var pause = 1;
        while (Libc.flock((int)handle.DangerousGetHandle(), Libc.LOCK_EX | Libc.LOCK_NB) != 0)
        {
            var errno = Libc.LastError;
            if (errno == Libc.EINTR)
            {
                continue;
            }

            if (errno != EWOULDBLOCK || System.Diagnostics.Stopwatch.GetElapsedTime(since) > Patience)
            {
                handle.Dispose();
                throw new IOException(errno == EWOULDBLOCK
                    ? $"{directory.PathOf(name)} stayed locked by another process for {Patience.TotalSeconds:0} s; is a Castra command hanging?"
                    : $"could not lock {directory.PathOf(name)}: {Libc.ErrorText(errno)}");
            }

            // Rare and short (a concurrent registration): a bounded back-off, not a blocking flock that could hang.
            Thread.Sleep(pause);
            pause = Math.Min(pause * 2, 50);
        }

        return new FileLock(handle);
    }

    public void Dispose() => _handle.Dispose();
}

using Castra.Native;

namespace Castra.State;

/// <summary>
/// A short, blocking, exclusive flock(2) around a read-modify-write of a shared file (hooks.json, a session record):
/// two registrations from two sessions at once must not lose one another. The descriptor is opened with open(2)
/// directly: a FileStream takes its own non-blocking flock, which fails instead of waiting while another holds this one.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd) => _fd = fd;

    public static FileLock Acquire(string lockPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var fd = Libc.open(lockPath, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd < 0)
        {
            throw new IOException($"could not open {lockPath}: {Libc.ErrorText(Libc.LastError)}");
        }

        while (Libc.flock(fd, Libc.LOCK_EX) != 0)
        {
            var errno = Libc.LastError;
            if (errno != Libc.EINTR)
            {
                Libc.close(fd);
                throw new IOException($"could not lock {lockPath}: {Libc.ErrorText(errno)}");
            }
        }

        return new FileLock(fd);
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }
}

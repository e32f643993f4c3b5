using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Castra.Native;

namespace Castra.Processes;

/// <summary>
/// One epoll instance and one dedicated thread for the whole process, however many VMs are waited on: each wait
/// registers its pidfd (which becomes readable the moment the process exits, zombie or not) and gets a Task.
/// This is what makes exit detection immediate without a thread or a sleep-poll per VM.
/// </summary>
internal sealed class ExitWatcher
{
    private static readonly Lazy<ExitWatcher> SharedInstance = new(() => new ExitWatcher(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly int _epfd;
    private readonly ConcurrentDictionary<ulong, Registration> _registrations = new();
    private long _nextId;

    private ExitWatcher()
    {
        _epfd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw new IOException($"epoll_create1 failed: {Libc.ErrorText(Libc.LastError)}");
        }

        var thread = new Thread(Loop) { IsBackground = true, Name = "Castra exit watcher" };
        thread.Start();
    }

    public static ExitWatcher Shared => SharedInstance.Value;

    /// <summary>
    /// Watches one pidfd until disposed; <see cref="ExitRegistration.Exited"/> completes when the process exits.
    /// One registration per process: epoll accepts a given fd only once, so every wait shares it.
    /// </summary>
    public ExitRegistration Register(SafeHandle pidfd)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var registration = new Registration(pidfd);
        var addedRef = false;
        pidfd.DangerousAddRef(ref addedRef);
        _registrations[id] = registration;
        if (!Add(pidfd, id))
        {
            var errno = Libc.LastError;
            _registrations.TryRemove(id, out _);
            pidfd.DangerousRelease();
            throw new IOException($"epoll_ctl(ADD, pidfd) failed: {Libc.ErrorText(errno)}");
        }

        return new ExitRegistration(registration.Exited.Task, () => Unregister(id));
    }

    private unsafe bool Add(SafeHandle pidfd, ulong id)
    {
        var evt = stackalloc byte[16];
        *(uint*)evt = Libc.EPOLLIN | Libc.EPOLLONESHOT;
        *(ulong*)(evt + Libc.EpollDataOffset) = id;
        return Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_ADD, (int)pidfd.DangerousGetHandle(), evt) == 0;
    }

    private unsafe void Unregister(ulong id)
    {
        if (_registrations.TryRemove(id, out var registration))
        {
            Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_DEL, (int)registration.Pidfd.DangerousGetHandle(), null);
            registration.Pidfd.DangerousRelease();
        }
    }

    private unsafe void Loop()
    {
        const int MaxEvents = 64;
        var size = Libc.EpollEventSize;
        var buffer = stackalloc byte[MaxEvents * 16];
        while (true)
        {
            var count = Libc.epoll_wait(_epfd, buffer, MaxEvents, -1);
            if (count < 0)
            {
                if (Libc.LastError == Libc.EINTR)
                {
                    continue;
                }

                Thread.Sleep(10); // Should not happen; never spin.
                continue;
            }

            for (var i = 0; i < count; i++)
            {
                var id = *(ulong*)(buffer + (i * size) + Libc.EpollDataOffset);
                if (_registrations.TryGetValue(id, out var registration))
                {
                    // The owner unregisters (DEL + release) when it disposes its registration.
                    registration.Exited.TrySetResult();
                }
            }
        }
    }

    private sealed class Registration(SafeHandle pidfd)
    {
        public SafeHandle Pidfd { get; } = pidfd;

        public TaskCompletionSource Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

using Castra.Native;

namespace Castra.Processes;

internal sealed class PidfdProcess : TrackedProcess
{
    private readonly PidfdHandle _pidfd;
    private readonly object _gate = new();
    private ExitRegistration? _registration;

    public PidfdProcess(int pid, ulong? startTime, PidfdHandle pidfd)
        : base(pid, startTime) => _pidfd = pidfd;

    public override string Mechanism => "pidfd";

    /// <summary>A pidfd polls readable once the process has exited, before it is reaped.</summary>
    public override unsafe bool HasExited
    {
        get
        {
            var fds = new Libc.PollFd { Fd = (int)_pidfd.DangerousGetHandle(), Events = Libc.POLLIN };
            return Libc.poll(&fds, 1, 0) > 0 && (fds.Revents & Libc.POLLIN) != 0;
        }
    }

    public override SignalResult Signal(int signal, out int errno)
    {
        errno = 0;
        if (Libc.PidfdSendSignal((int)_pidfd.DangerousGetHandle(), signal) == 0)
        {
            return SignalResult.Sent;
        }

        errno = Libc.LastError;
        return errno == Libc.ESRCH ? SignalResult.AlreadyExited : SignalResult.Failed;
    }

    public override async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (HasExited)
        {
            return true;
        }

        ExitRegistration registration;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_pidfd.IsClosed, this);
            registration = _registration ??= ExitWatcher.Shared.Register(_pidfd);
        }

        try
        {
            await registration.Exited.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return HasExited;
        }
    }

    public override void Dispose()
    {
        lock (_gate)
        {
            _registration?.Dispose();
            _registration = null;
        }

        _pidfd.Dispose();
        base.Dispose();
    }
}

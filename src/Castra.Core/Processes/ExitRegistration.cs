namespace Castra.Processes;

/// <summary>An epoll watch on one pidfd; dispose to stop watching (before the pidfd is closed).</summary>
internal sealed class ExitRegistration : IDisposable
{
    private readonly Action _unregister;
    private int _disposed;

    public ExitRegistration(Task exited, Action unregister)
    {
        Exited = exited;
        _unregister = unregister;
    }

    /// <summary>Completes when the process exits.</summary>
    public Task Exited { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _unregister();
        }
    }
}

namespace Castra.Shutdown;

/// <summary>
/// A VM's place among those in their start-up (lock, status file, journal, identity check, hook list): blocking
/// file work that runs on thread-pool threads. Released once, by whichever comes first: the VM starts waiting on
/// something outside Castra (another owner, sessions, hooks, the guest), or its run ends.
/// </summary>
internal sealed class StartupSlot : IDisposable
{
    private SemaphoreSlim? _gate;

    public StartupSlot(SemaphoreSlim? gate) => _gate = gate;

    /// <summary>Idempotent and thread-safe.</summary>
    public void Release() => Interlocked.Exchange(ref _gate, null)?.Release();

    public void Dispose() => Release();
}

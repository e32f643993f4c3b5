using System.Threading.Channels;

namespace Castra.State;

/// <summary>
/// A few dedicated threads for the engine's blocking state-file work: the VM lock, shutdown.json (temp file, rename),
/// the journal's flush and the audit line. Done on thread-pool threads, this work starved the pool (2 threads on 2
/// cores, grown only slowly), and every socket continuation and exit notification of other VMs waited behind somebody's
/// fsync. Here it waits only for the disk, and the pool stays free for what must be prompt. Callers continue on the
/// thread pool, never on these threads. Work that must run here checks <see cref="EnsureHere"/>, so a call site that
/// forgot the hop fails its tests instead of quietly blocking the pool.
/// </summary>
internal sealed class StateIo
{
    private static readonly Lazy<StateIo> SharedInstance = new(() => new StateIo(Math.Max(4, Environment.ProcessorCount * 4)), LazyThreadSafetyMode.ExecutionAndPublication);

    [ThreadStatic]
    private static bool _onIoThread;

    private readonly Channel<Action> _work = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    /// <summary>
    /// Idle threads sleep on this monitor, and each item wakes one (Pulse). Measured with strace over 10 VMs: blocking
    /// on the channel's own wait woke every idle thread per item (~180 sched_yield per VM as they spun back to
    /// sleep), and a SemaphoreSlim spins with sched_yield before it sleeps (~250 per VM); a monitor wait does not spin.
    /// </summary>
    private readonly object _idle = new();

    private StateIo(int threads)
    {
        // As many as start-ups may run at once (ShutdownEngine.StartupConcurrency): concurrent writes overlap in the
        // disk queue (and share journal commits on journaling file systems). Mostly asleep in the kernel.
        for (var i = 0; i < threads; i++)
        {
            new Thread(Loop) { IsBackground = true, Name = "Castra state I/O" }.Start();
        }
    }

    public static StateIo Shared => SharedInstance.Value;

    /// <summary>True on one of the state I/O threads.</summary>
    public static bool IsHere => _onIoThread;

    /// <summary>For work that blocks on the disk: refuses to run anywhere but here.</summary>
    /// <exception cref="InvalidOperationException">Called on another thread (a missing hop to <see cref="Shared"/>).</exception>
    public static void EnsureHere(string what)
    {
        if (!_onIoThread)
        {
            throw new InvalidOperationException($"{what} blocks on the disk and must run on Castra's state I/O threads (StateIo.Shared.RunAsync), not on {Thread.CurrentThread.Name ?? "a thread-pool thread"}.");
        }
    }

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_work.Writer.TryWrite(() =>
        {
            try
            {
                done.SetResult(work());
            }
#pragma warning disable CA1031 // Handed to the awaiting caller, which sees exactly what the work threw.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                done.SetException(ex);
            }
        }))
        {
            // An unbounded channel that is never completed accepts every write.
            throw new InvalidOperationException("Castra's state I/O queue refused work.");
        }

        lock (_idle)
        {
            Monitor.Pulse(_idle);
        }

        return done.Task;
    }

    public Task RunAsync(Action work) => RunAsync(() =>
    {
        work();
        return true;
    });

    private void Loop()
    {
        _onIoThread = true;
        var reader = _work.Reader;
        while (true)
        {
            // Asleep until there is work: a dedicated thread may block, the pool's may not.
            Action? work;
            lock (_idle)
            {
                while (!reader.TryRead(out work))
                {
                    Monitor.Wait(_idle);
                }
            }

            work();
        }
    }
}

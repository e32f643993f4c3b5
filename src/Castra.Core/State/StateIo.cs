namespace Castra.State;

/// <summary>
/// A few dedicated threads for the engine's blocking state-file work: the VM lock, shutdown.json (temp file,
/// fsync, rename) at each phase, the journal's fsync and the audit line at the end. Done on thread-pool threads,
/// this work starved the pool (2 threads on 2 cores, grown only slowly), and every socket continuation and exit
/// notification of other VMs waited behind somebody's fsync. Here it waits only for the disk, and the pool stays
/// free for what must be prompt. Callers continue on the thread pool, never on these threads.
/// </summary>
internal sealed class StateIo
{
    private static readonly Lazy<StateIo> SharedInstance = new(() => new StateIo(Math.Max(4, Environment.ProcessorCount * 4)), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Queue<Action> _work = new();

    private StateIo(int threads)
    {
        // As many as start-ups may run at once (ShutdownEngine.StartupConcurrency): concurrent fsyncs overlap in the
        // disk queue (and share journal commits on journaling file systems). Mostly asleep in the kernel.
        for (var i = 0; i < threads; i++)
        {
            new Thread(Loop) { IsBackground = true, Name = "Castra state I/O" }.Start();
        }
    }

    public static StateIo Shared => SharedInstance.Value;

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(() =>
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
        });
        return done.Task;
    }

    public Task RunAsync(Action work) => RunAsync(() =>
    {
        work();
        return true;
    });

    private void Enqueue(Action work)
    {
        lock (_work)
        {
            _work.Enqueue(work);
            Monitor.Pulse(_work);
        }
    }

    private void Loop()
    {
        while (true)
        {
            Action work;
            lock (_work)
            {
                while (_work.Count == 0)
                {
                    Monitor.Wait(_work);
                }

                work = _work.Dequeue();
            }

            work();
        }
    }
}

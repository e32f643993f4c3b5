using System.Threading.Channels;
using Castra.Native;

namespace Castra.State;

/// <summary>
/// Makes what runs have written durable, many at once: each run asks once (before it first acts on QEMU), and one
/// thread flushes each file system with one syncfs(2) for every request that arrived while the previous flush ran.
/// A fleet of 1000 VMs reaching their power buttons together costs a handful of flushes, not 4000 fsyncs; and one
/// call covers the journal, shutdown.json and the directory entry its rename changed.
/// </summary>
internal sealed class GroupCommit
{
    private static readonly Lazy<GroupCommit> SharedInstance = new(() => new GroupCommit(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The flushing thread sleeps on this monitor (no spinning; see <see cref="StateIo"/>).</summary>
    private readonly object _idle = new();

    private GroupCommit() => new Thread(Loop) { IsBackground = true, Name = "Castra group commit" }.Start();

    public static GroupCommit Shared => SharedInstance.Value;

    /// <summary>Completes once everything written so far on <paramref name="dir"/>'s file system is on disk; faults with the flush's error.</summary>
    public Task CommitAsync(StateDirectory dir)
    {
        // The descriptor stays valid until the flush is done, even if the run gives up waiting and closes the directory.
        var added = false;
        dir.Handle.DangerousAddRef(ref added);
        var request = new Request(dir, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_requests.Writer.TryWrite(request))
        {
            dir.Handle.DangerousRelease();
            throw new InvalidOperationException("Castra's group commit queue refused a request.");
        }

        lock (_idle)
        {
            Monitor.Pulse(_idle);
        }

        return request.Done.Task;
    }

    private void Loop()
    {
        var reader = _requests.Reader;
        var batch = new List<Request>();
        while (true)
        {
            lock (_idle)
            {
                Request? first;
                while (!reader.TryRead(out first))
                {
                    Monitor.Wait(_idle);
                }

                batch.Add(first);
            }

            while (reader.TryRead(out var request))
            {
                batch.Add(request);
            }

            foreach (var fileSystem in batch.GroupBy(r => r.Directory.Device))
            {
                var failed = Libc.syncfs(fileSystem.First().Directory.Descriptor) != 0 ? Libc.LastError : 0;
                foreach (var request in fileSystem)
                {
                    request.Directory.Handle.DangerousRelease();
                    if (failed == 0)
                    {
                        request.Done.SetResult();
                    }
                    else
                    {
                        request.Done.SetException(new IOException($"cannot flush {request.Directory.Path} to disk: {Libc.ErrorText(failed)}"));
                    }
                }
            }

            batch.Clear();
        }
    }

    private sealed record Request(StateDirectory Directory, TaskCompletionSource Done);
}

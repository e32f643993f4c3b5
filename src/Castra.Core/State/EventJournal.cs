using Castra.Events;

namespace Castra.State;

/// <summary>
/// The append-only <c>events.ndjson</c>. Only the lock holder writes, so one writer at a time; each event is one
/// write of one complete line, flushed to the OS before anyone is told about it, so a follower or a crash never
/// sees half a line and no line that was reported is missing. The file is fsynced when a shutdown completes.
/// </summary>
internal sealed class EventJournal : IDisposable
{
    private readonly FileStream _stream;

    private EventJournal(FileStream stream) => _stream = stream;

    /// <summary>Where the next line will start.</summary>
    public long Length => _stream.Length;

    public static EventJournal OpenForAppend(VmPaths vm) =>
        new(new FileStream(vm.Journal, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0));

    public void Append(ShutdownEvent evt)
    {
        _stream.Write(EventJson.SerializeLine(evt));
        _stream.Flush();
    }

    public void FlushToDisk() => _stream.Flush(flushToDisk: true);

    public void Dispose() => _stream.Dispose();
}

using Castra.Events;
using Castra.Native;
using Microsoft.Win32.SafeHandles;

namespace Castra.State;

/// <summary>
/// The append-only <c>events.ndjson</c>. Only the lock holder writes, so one writer at a time; each event is one
/// write(2) of one complete line, in the OS before anyone is told about it, so a follower never sees half a line
/// and no line that was reported is missing. A line is whole or absent: a write that fails part-way (disk full) is
/// cut back at once, and a torn tail left by a writer that died mid-write is cut back before the next append.
/// Not forced to disk line by line: the run makes it durable once, before it first acts on QEMU (GroupCommit).
/// </summary>
internal sealed class EventJournal : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private EventJournal(SafeFileHandle handle, string path, long length)
    {
        _handle = handle;
        _path = path;
        Length = length;
    }

    /// <summary>Where the next line will start.</summary>
    public long Length { get; private set; }

    private int Fd => (int)_handle.DangerousGetHandle();

    /// <exception cref="IOException">Unsafe (<see cref="UnsafeStateFileException"/>) or unwritable.</exception>
    public static EventJournal OpenForAppend(VmDirectory vm)
    {
        var handle = vm.Files.OpenForWriting(VmDirectory.JournalName, StateDirectory.WriteMode.Append);
        try
        {
            var length = RepairTornTail((int)handle.DangerousGetHandle(), vm.Paths.Journal);
            return new EventJournal(handle, vm.Paths.Journal, length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <exception cref="IOException">The line could not be written whole (it was cut back: absent, never torn).</exception>
    public void Append(ShutdownEvent evt)
    {
        var line = EventJson.SerializeLine(evt);
        if (Libc.WriteFull(Fd, line) < 0)
        {
            var errno = Libc.LastError;
            _ = Libc.ftruncate(Fd, Length);
            throw new IOException($"cannot append to {_path}: {Libc.ErrorText(errno)}");
        }

        Length += line.Length;
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>Cuts a last line without its '\n' (a writer that died mid-write); returns the length after.</summary>
    private static long RepairTornTail(int fd, string path)
    {
        if (Libc.FStat(fd, out var stat) != 0)
        {
            throw new IOException($"cannot examine {path}: {Libc.ErrorText(Libc.LastError)}");
        }

        var size = stat.Size;
        if (size == 0)
        {
            return 0;
        }

        // The usual case, a journal whose last line is whole, reads one byte.
        Span<byte> last = stackalloc byte[1];
        if (Libc.ReadFull(fd, last, size - 1) == 1 && last[0] == (byte)'\n')
        {
            return size;
        }

        // Scan back from the end for the last '\n', a chunk at a time. A torn line is at most one event long; a file
        // whose last megabyte holds no line end is not a journal Castra wrote, and is left alone (bounded work).
        var chunk = new byte[Math.Min(size, StateLimits.JournalLineBytes)];
        var end = size;
        while (end > 0)
        {
            if (size - end >= StateLimits.JournalChunkBytes)
            {
                throw new UnsafeStateFileException(path, "ends in more than 1 MiB without a line end: it is not an event journal Castra can append to; move it away");
            }

            var start = Math.Max(0, end - chunk.Length);
            var span = chunk.AsSpan(0, (int)(end - start));
            if (Libc.ReadFull(fd, span, start) != span.Length)
            {
                throw new IOException($"cannot read {path}: {Libc.ErrorText(Libc.LastError)}");
            }

            var newline = span.LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                var keep = start + newline + 1;
                return keep == size ? size : Truncate(fd, path, keep);
            }

            end = start;
        }

        return Truncate(fd, path, 0);
    }

    private static long Truncate(int fd, string path, long length)
    {
        if (Libc.ftruncate(fd, length) != 0)
        {
            throw new IOException($"cannot repair the torn last line of {path}: {Libc.ErrorText(Libc.LastError)}");
        }

        return length;
    }
}

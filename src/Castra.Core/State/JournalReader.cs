using Castra.Events;
using Castra.Native;

namespace Castra.State;

/// <summary>
/// Reads complete lines appended to <c>events.ndjson</c> since the last call, starting at a byte offset, at most
/// <see cref="StateLimits.JournalChunkBytes"/> a call. A trailing partial line (a writer mid-append) is left for the
/// next call; a line longer than <see cref="StateLimits.JournalLineBytes"/> or not an event is skipped.
/// </summary>
internal sealed class JournalReader
{
    private readonly VmDirectory _vm;
    private long _offset;
    private bool _skippingLine;

    public JournalReader(VmDirectory vm, long offset)
    {
        _vm = vm;
        _offset = Math.Max(0, offset);
    }

    /// <exception cref="IOException">The journal is unsafe (a link, foreign-owned, not a regular file) or unreadable.</exception>
    public IReadOnlyList<ShutdownEvent> ReadNew()
    {
        byte[] chunk;
        using (var handle = _vm.Files.OpenForReading(VmDirectory.JournalName, requireTrustedOwner: true, out var stat))
        {
            if (handle is null || stat.Size <= _offset)
            {
                return [];
            }

            chunk = new byte[Math.Min(stat.Size - _offset, StateLimits.JournalChunkBytes)];
            var read = Libc.ReadFull((int)handle.DangerousGetHandle(), chunk, _offset);
            if (read < 0)
            {
                throw new IOException($"cannot read {_vm.Paths.Journal}: {Libc.ErrorText(Libc.LastError)}");
            }

            chunk = chunk[..read];
        }

        var events = new List<ShutdownEvent>();
        var start = 0;
        for (var i = 0; i < chunk.Length; i++)
        {
            if (chunk[i] != (byte)'\n')
            {
                continue;
            }

            var line = chunk.AsSpan(start, i - start);
            start = i + 1;
            if (_skippingLine)
            {
                _skippingLine = false;
                continue;
            }

            if (line.IsEmpty || line.Length > StateLimits.JournalLineBytes)
            {
                continue;
            }

            try
            {
                events.Add(EventJson.Deserialize(line) with { StateRoot = _vm.Paths.Root.Path });
            }
            catch (FormatException)
            {
                // A foreign or damaged line: skip it rather than stop following the shutdown.
            }
        }

        // A whole chunk without a line end is an over-long line: skip it, and the rest of it on later calls.
        if (start == 0 && chunk.Length == StateLimits.JournalChunkBytes)
        {
            _skippingLine = true;
            start = chunk.Length;
        }

        _offset += start;
        return events;
    }
}

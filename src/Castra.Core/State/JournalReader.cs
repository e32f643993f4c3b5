using Castra.Events;

namespace Castra.State;

/// <summary>
/// Reads complete lines appended to <c>events.ndjson</c> since the last call, starting at a byte offset.
/// A trailing partial line (a writer mid-append) is left for the next call.
/// </summary>
internal sealed class JournalReader
{
    private readonly string _path;
    private long _offset;

    public JournalReader(string path, long offset)
    {
        _path = path;
        _offset = offset;
    }

    public IReadOnlyList<ShutdownEvent> ReadNew()
    {
        byte[] chunk;
        try
        {
            using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length <= _offset)
            {
                return [];
            }

            stream.Position = _offset;
            chunk = new byte[stream.Length - _offset];
            stream.ReadExactly(chunk);
        }
        catch (FileNotFoundException)
        {
            return [];
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
            if (line.IsEmpty)
            {
                continue;
            }

            try
            {
                events.Add(EventJson.Deserialize(line));
            }
            catch (FormatException)
            {
                // A foreign or damaged line: skip it rather than stop following the shutdown.
            }
        }

        _offset += start;
        return events;
    }
}

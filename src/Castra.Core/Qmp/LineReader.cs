using System.Net.Sockets;

namespace Castra.Qmp;

/// <summary>
/// Reads '\n'-terminated lines from a socket in bounded memory: a line longer than the cap is reported as
/// <see cref="ChannelLine.Oversized"/> (its start only) and the rest of it is skipped as it arrives, so a peer that
/// never ends a line costs at most the cap, however much it sends.
/// </summary>
internal sealed class LineReader
{
    /// <summary>
    /// The largest line kept. Every message Castra reads is far smaller: measured with Debian's QEMU 7.2, the greeting
    /// is 142 bytes, the query-status reply 94, the SHUTDOWN event 138. The margin leaves room for any event QEMU may
    /// send that Castra ignores. (1 MiB before: a hostile peer could pin that per connection for nothing.)
    /// </summary>
    public const int DefaultMaxLineBytes = 64 * 1024;

    /// <summary>How much of an oversized line is kept, for the Detail that reports it.</summary>
    private const int OversizedPrefixBytes = 256;

    private readonly Socket _socket;
    private readonly int _maxLineBytes;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _skipping;

    public LineReader(Socket socket, int maxLineBytes = DefaultMaxLineBytes)
    {
        _socket = socket;
        _maxLineBytes = maxLineBytes;
        _buffer = new byte[Math.Min(4096, maxLineBytes)];
    }

    /// <summary>True when the peer closed the stream in the middle of a line (the partial line is dropped).</summary>
    public bool EndedMidLine { get; private set; }

    /// <summary>The next line (a trailing '\r' removed); null at end of stream.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public async ValueTask<ChannelLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (_skipping)
            {
                // The tail of an oversized line: drop it as it arrives, up to and including its line end.
                if (newline < 0)
                {
                    _start = _end = 0;
                }
                else
                {
                    _start = newline + 1;
                    _skipping = false;
                    continue;
                }
            }
            else if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }

                var line = _buffer.AsMemory(_start, length).ToArray();
                _start = newline + 1;
                return new ChannelLine(line, Oversized: false);
            }
            else if (_end - _start >= _maxLineBytes)
            {
                var prefix = _buffer.AsMemory(_start, Math.Min(OversizedPrefixBytes, _end - _start)).ToArray();
                _start = _end = 0;
                _skipping = true;
                return new ChannelLine(prefix, Oversized: true);
            }

            MakeRoom();
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                EndedMidLine = _end > _start || _skipping;
                _start = _end = 0;
                return null;
            }

            _end += read;
        }
    }

    /// <summary>Frees room at the end of the buffer; grows it only while a line is shorter than the cap.</summary>
    private void MakeRoom()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length && _buffer.Length < _maxLineBytes)
        {
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, _maxLineBytes));
        }
    }
}

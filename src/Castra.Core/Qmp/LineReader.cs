using System.Net.Sockets;

namespace Castra.Qmp;

/// <summary>
/// Reads '\n'-terminated lines from a socket with a hard size cap, so a peer that never ends a line cannot make
/// Castra buffer without bound.
/// </summary>
internal sealed class LineReader
{
    private const int MaxLineBytes = 1 << 20;

    private readonly Socket _socket;
    private byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;

    public LineReader(Socket socket) => _socket = socket;

    /// <summary>The next line without its terminator (a trailing '\r' removed); null at end of stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }

                var line = _buffer.AsMemory(_start, length).ToArray();
                _start = newline + 1;
                return line;
            }

            if (_end - _start >= MaxLineBytes)
            {
                throw new QmpException(QmpErrorKind.ProtocolError, $"a QMP message exceeded {MaxLineBytes} bytes without a line end");
            }

            Compact();
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }

    private void Compact()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
    }
}

using System.Text;
using Castra.Native;
using Castra.State;

namespace Castra.Launch;

/// <summary>
/// Looks for a marker in a VM's serial log (guest-written bytes) across polls: each look reads only what was
/// appended since the last one, at most <see cref="MaxBytesPerLook"/>, through the VM's open directory (no link is
/// followed, a FIFO or foreign-owned file is refused), and carries the last marker-length-minus-one bytes over so a
/// marker split between two reads is still found. A log written by another QEMU process (a new start deletes and
/// recreates it: the inode number alone may be reused at once), or that shrank, or is another file, is read afresh.
/// </summary>
internal sealed class SerialMarkerScan
{
    internal const int MaxBytesPerLook = 1 << 20;

    private readonly byte[] _marker;
    private byte[] _carry = [];
    private long _offset;
    private (ulong Device, ulong Inode, int Writer) _file;

    public SerialMarkerScan(string marker) => _marker = Encoding.UTF8.GetBytes(marker);

    public bool Found { get; private set; }

    /// <summary>True once the marker has been seen.</summary>
    /// <param name="writer">The PID of the VM's proven QEMU, which writes the log.</param>
    /// <exception cref="IOException">The log is unsafe (UnsafeStateFileException) or unreadable.</exception>
    public bool Look(StateDirectory files, int writer)
    {
        if (Found)
        {
            return true;
        }

        using var handle = files.OpenForReading(VmDirectory.SerialLogName, requireTrustedOwner: true, out var stat);
        if (handle is null)
        {
            return false;
        }

        if (stat.Size < _offset || (stat.Device, stat.Inode, writer) != _file)
        {
            _file = (stat.Device, stat.Inode, writer);
            _offset = 0;
            _carry = [];
        }

        var want = (int)Math.Min(MaxBytesPerLook, stat.Size - _offset);
        if (want <= 0)
        {
            return false;
        }

        var buffer = new byte[_carry.Length + want];
        _carry.CopyTo(buffer, 0);
        var read = Libc.ReadFull((int)handle.DangerousGetHandle(), buffer.AsSpan(_carry.Length), _offset);
        if (read < 0)
        {
            throw new IOException($"cannot read {files.PathOf(VmDirectory.SerialLogName)}: {Libc.ErrorText(Libc.LastError)}");
        }

        _offset += read;
        var window = buffer.AsSpan(0, _carry.Length + read);
        if (window.IndexOf(_marker) >= 0)
        {
            Found = true;
            return true;
        }

        _carry = window[Math.Max(0, window.Length - (_marker.Length - 1))..].ToArray();
        return false;
    }
}

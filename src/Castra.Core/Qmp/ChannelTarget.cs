using System.Net.Sockets;

namespace Castra.Qmp;

/// <summary>
/// Where a channel client connects and how it proves who answered. <see cref="ConnectPath"/> reaches the socket
/// through the VM's open directory (<c>/proc/self/fd/N/qmp.sock</c>), <see cref="DisplayPath"/> names it in
/// messages, and <see cref="VerifyPeer"/> runs right after connect(2), before a single byte from the peer is read:
/// a path is only a name, and whoever can write to the VM's directory could have put another listener there.
/// </summary>
public sealed record ChannelTarget(string ConnectPath, string DisplayPath)
{
    /// <summary>Null when the connected peer is acceptable; otherwise why it is not (a <see cref="QmpErrorKind.PeerNotQemu"/>).</summary>
    public Func<Socket, string?>? VerifyPeer { get; init; }

    /// <summary>A socket reached by its own path, with no peer check (tests, and castra up waiting for its own QEMU).</summary>
    public static ChannelTarget Of(string path) => new(path, path);

    internal void Verify(Socket connected)
    {
        if (VerifyPeer?.Invoke(connected) is { } refusal)
        {
            throw new QmpException(QmpErrorKind.PeerNotQemu, $"{DisplayPath} is not served by the VM's QEMU: {refusal}");
        }
    }
}

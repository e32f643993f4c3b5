namespace Castra.Qmp;

/// <summary>How a QMP exchange failed; the shutdown engine turns each into a precise Detail and Hint.</summary>
public enum QmpErrorKind
{
    /// <summary>No socket file at the path.</summary>
    SocketMissing,

    /// <summary>The path cannot be used as a Unix socket address (too long).</summary>
    SocketPathTooLong,

    /// <summary>Nothing listens on the socket (ECONNREFUSED/ECONNRESET): QEMU exited or was killed.</summary>
    ConnectionRefused,

    /// <summary>connect() did not complete in time (a stopped QEMU's backlog is full).</summary>
    ConnectTimeout,

    /// <summary>Connected, but no greeting came: QEMU is stopped, or another client holds the monitor.</summary>
    GreetingTimeout,

    /// <summary>Something answered that is not a QMP monitor.</summary>
    NotQmp,

    /// <summary>A command got no reply in time.</summary>
    ReplyTimeout,

    /// <summary>QEMU answered a command with an error.</summary>
    CommandFailed,

    /// <summary>QEMU closed the connection.</summary>
    Disconnected,

    /// <summary>
    /// Bytes that are not a QMP message at all: not valid UTF-8, not JSON, nested too deep, or a line over the size cap.
    /// </summary>
    ProtocolError,

    /// <summary>
    /// Well-formed JSON that is not a valid QMP message or not the reply the command needs: an array or number where an
    /// object belongs, an error without a string desc, a query-status reply without a status, …
    /// </summary>
    MalformedMessage,

    /// <summary>More messages than any QEMU sends (an event flood, or stray messages during the handshake).</summary>
    Flooded,

    /// <summary>The process at the other end of the connection is not the VM's proven QEMU (nothing it says is used).</summary>
    PeerNotQemu,

    /// <summary>Something other than a socket sits where the socket belongs (a link, a file): refused, never followed.</summary>
    NotASocket,

    /// <summary>Any other socket error.</summary>
    SocketError,
}

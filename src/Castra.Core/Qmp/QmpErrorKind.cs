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

    /// <summary>A malformed or oversized message.</summary>
    ProtocolError,

    /// <summary>Any other socket error.</summary>
    SocketError,
}

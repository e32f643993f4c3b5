namespace Castra.Qmp;

public sealed class QmpException : Exception
{
    public QmpException(QmpErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    public QmpException()
        : this(QmpErrorKind.ProtocolError, "QMP failed.")
    {
    }

    public QmpException(string message)
        : this(QmpErrorKind.ProtocolError, message)
    {
    }

    public QmpException(string message, Exception innerException)
        : this(QmpErrorKind.ProtocolError, message, innerException)
    {
    }

    public QmpErrorKind Kind { get; }
}

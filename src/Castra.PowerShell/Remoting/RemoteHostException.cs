namespace Castra.PowerShell.Remoting;

/// <summary>A host of a call across hosts could not run its part (see the record's FullyQualifiedErrorId).</summary>
public sealed class RemoteHostException : Exception
{
    public RemoteHostException()
    {
    }

    public RemoteHostException(string message)
        : base(message)
    {
    }

    public RemoteHostException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}

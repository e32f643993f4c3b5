using System.Net.Sockets;

namespace Castra.Qmp;

/// <summary>Runs one socket step under its own timeout and turns socket failures into classified errors.</summary>
internal static class SocketSteps
{
    private static readonly TimeSpan MaxBound = TimeSpan.FromMilliseconds(int.MaxValue);

    public static async Task<T> WithTimeout<T>(Func<CancellationToken, Task<T>> step, TimeSpan timeout, QmpErrorKind timeoutKind, string timeoutMessage, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Clamp(timeout));
        try
        {
            return await step(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new QmpException(timeoutKind, timeoutMessage);
        }
        catch (SocketException ex)
        {
            throw Classify(ex);
        }
        catch (ObjectDisposedException ex)
        {
            // The client was disposed while this step ran (its owner is giving up on the channel).
            throw new QmpException(QmpErrorKind.Disconnected, "the connection was closed while in use", ex);
        }
    }

    /// <summary>A bound CancelAfter accepts: a window already spent is zero (fail now), not an ArgumentOutOfRangeException.</summary>
    public static TimeSpan Clamp(TimeSpan timeout) =>
        timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout > MaxBound ? MaxBound : timeout;

    /// <summary>A new Unix stream socket; creating one can fail too (out of descriptors), and that is a QmpException like the rest.</summary>
    public static Socket NewUnixSocket()
    {
        try
        {
            return new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        }
        catch (SocketException ex)
        {
            throw Classify(ex);
        }
    }

    public static QmpException Classify(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused or SocketError.ConnectionReset =>
            new QmpException(QmpErrorKind.ConnectionRefused, $"nothing is listening on the socket ({ex.Message}): QEMU has exited or was killed", ex),
        SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported =>
            new QmpException(QmpErrorKind.SocketMissing, $"the socket cannot be reached ({ex.Message})", ex),
        _ => new QmpException(QmpErrorKind.SocketError, $"socket error: {ex.Message}", ex),
    };
}

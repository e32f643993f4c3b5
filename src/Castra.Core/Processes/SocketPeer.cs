using System.Net.Sockets;

namespace Castra.Processes;

/// <summary>
/// Asks the kernel which process listens on a Unix socket (SO_PEERCRED): if the VM's own qmp.sock is served by
/// PID n, then n is the VM's QEMU, whatever its command line says.
/// </summary>
internal static class SocketPeer
{
    private const int SOL_SOCKET = 1;
    private const int SO_PEERCRED = 17;

    public static async Task<int?> TryGetPidAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(socketPath) || System.Text.Encoding.UTF8.GetByteCount(socketPath) > State.VmPaths.MaxSocketPathBytes)
        {
            return null;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            // The kernel completes a connect into the listen backlog even if QEMU never accepts (e.g. stopped).
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token).ConfigureAwait(false);
            var cred = new byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, cred);
            var pid = BitConverter.ToInt32(cred, 0);
            return pid > 0 ? pid : null;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
    }
}

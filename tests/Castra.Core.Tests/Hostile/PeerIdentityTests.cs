using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Castra.Processes;
using Castra.Tests.Support;

namespace Castra.Tests.Hostile;

/// <summary>
/// PeerIdentity, the check the channel code runs after connecting to qmp.sock: is the process at the other end the
/// QEMU whose identity was proven? With SO_PEERPIDFD, and as on kernels without it (sock_diag).
/// </summary>
public sealed class PeerIdentityTests : IDisposable
{
    private readonly TestStateRoot _root = new();
    private readonly List<IDisposable> _cleanup = [];

    public void Dispose()
    {
        foreach (var item in _cleanup)
        {
            item.Dispose();
        }

        _root.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_connection_to_the_qemus_socket_is_served_by_that_qemu(bool withoutPeerPidfd)
    {
        SocketPeer.WithoutPeerPidfd.Value = withoutPeerPidfd;
        var vm = _root.Launch("web", "no-greeting");
        using var qemu = TrackedProcess.Open(vm.Pid)!;
        using var socket = await ConnectAsync(vm.Paths.QmpSocket);

        var check = PeerIdentity.Check(socket, qemu);

        Assert.True(check.Served, check.Detail);
        Assert.Contains(withoutPeerPidfd ? "QEMU (PID" : "SO_PEERPIDFD", check.Detail);
        Assert.True(PeerIdentity.IsServedBy(socket, qemu));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_socket_served_by_another_process_is_not_the_qemus(bool withoutPeerPidfd)
    {
        SocketPeer.WithoutPeerPidfd.Value = withoutPeerPidfd;
        var qemuOfTheVm = _root.Launch("web", "graceful");
        var impostorPath = Path.Combine(_root.Path, "impostor.sock");
        var socat = _root.Track(Process.Start(new ProcessStartInfo("socat", [$"UNIX-LISTEN:{impostorPath},fork", "EXEC:/bin/cat"]))!);
        using var qemu = TrackedProcess.Open(qemuOfTheVm.Pid)!;
        using var socket = await ConnectAsync(impostorPath);

        var check = PeerIdentity.Check(socket, qemu);

        Assert.False(check.Served, check.Detail);
        if (!withoutPeerPidfd)
        {
            Assert.Contains($"PID {socat.Id}", check.Detail);
        }
    }

    [Fact]
    public async Task A_qemu_that_forked_after_listen_is_proven_by_the_socket_it_holds()
    {
        var path = Path.Combine(_root.Path, "forked.sock");
        var ready = Path.Combine(_root.Path, "forked.ready");
        using (var listener = Process.Start(IdentityHelperBinary.Path, ["listen-fork", path, ready]))
        {
            Assert.True(listener.WaitForExit(10_000));
            Assert.Equal(0, listener.ExitCode);
        }

        var holderPid = int.Parse(File.ReadAllText(ready).Trim(), CultureInfo.InvariantCulture);
        _cleanup.Add(Bystander.Of(holderPid));
        using var holder = TrackedProcess.Open(holderPid)!;
        using var stranger = TrackedProcess.Open(_root.Track(Process.Start("sleep", "300")).Id)!;
        using var socket = await ConnectAsync(path);

        var check = PeerIdentity.Check(socket, holder);
        Assert.True(check.Served, check.Detail);
        Assert.Contains("queued on a listening socket", check.Detail);
        Assert.False(PeerIdentity.IsServedBy(socket, stranger));
    }

    [Fact]
    public void The_listener_bound_to_a_vms_socket_file_is_found_by_device_and_inode()
    {
        var vm = _root.Launch("bound", "graceful");

        var listeners = SocketListeners.Find(vm.Paths.QmpSocket);

        Assert.NotNull(listeners);
        Assert.Equal("sock_diag", listeners.Source);
        Assert.True(FdTable.Holds(vm.Pid, listeners.Inodes));
        Assert.Equal([vm.Pid], FdTable.Holders(listeners.Inodes));
        Assert.Empty(SocketListeners.Find(vm.Paths.PidFile)!.Inodes); // not a socket
    }

    private static async Task<Socket> ConnectAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
                return socket;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(20);
            }
        }
    }
}

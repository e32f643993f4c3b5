using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Castra.Native;

namespace Castra.Bench.Guest;

/// <summary>
/// The guest's own power-off time, seen from outside the tool being measured, in the same run: QEMU's POWERDOWN
/// event (emitted when its main loop handles <c>system_powerdown</c>, i.e. the button press) and SHUTDOWN event
/// (the guest powered itself off), both stamped by QEMU with CLOCK_REALTIME, read on a second QMP monitor that only
/// this watch uses (the tool keeps the VM's own monitor); and the moment QEMU's process exits, from a pidfd polled
/// on a dedicated thread (readable at exit, before reaping). Power-off time = exit − POWERDOWN.
/// </summary>
internal sealed class PowerOffWatch : IDisposable
{
    private readonly Socket _monitor;
    private readonly Task _events;
    private readonly TaskCompletionSource<DateTimeOffset> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _pidfd;

    private PowerOffWatch(Socket monitor, StreamReader reader, int pidfd)
    {
        _monitor = monitor;
        _pidfd = pidfd;
        _events = Task.Run(() => ReadEventsAsync(reader));
        var thread = new Thread(WaitForExit) { IsBackground = true, Name = "bench-qemu-exit" };
        thread.Start();
    }

    /// <summary>When QEMU handled system_powerdown (its POWERDOWN event), by QEMU's clock.</summary>
    public DateTimeOffset? PowerdownAt { get; private set; }

    /// <summary>When the guest powered off (QEMU's SHUTDOWN event), by QEMU's clock.</summary>
    public DateTimeOffset? ShutdownAt { get; private set; }

    /// <summary>"guest-shutdown" when the guest powered itself off; "host-signal" etc. otherwise.</summary>
    public string? ShutdownReason { get; private set; }

    /// <summary>Completes when QEMU's process has exited (pidfd readable).</summary>
    public Task<DateTimeOffset> Exited => _exited.Task;

    /// <summary>Opens the pidfd first (so the exit cannot be missed), then connects to the observer monitor.</summary>
    public static async Task<PowerOffWatch> StartAsync(int qemuPid, string monitorSocket, CancellationToken cancellationToken)
    {
        var pidfd = Libc.PidfdOpen(qemuPid);
        if (pidfd < 0)
        {
            throw new InvalidOperationException($"pidfd_open({qemuPid}) failed: {Libc.ErrorText(Libc.LastError)}");
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(monitorSocket), cancellationToken);
            var stream = new NetworkStream(socket, ownsSocket: false);
            var reader = new StreamReader(stream, Encoding.UTF8);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            _ = await reader.ReadLineAsync(timeout.Token); // greeting
            await stream.WriteAsync("{\"execute\":\"qmp_capabilities\"}\n"u8.ToArray(), timeout.Token);
            while (await reader.ReadLineAsync(timeout.Token) is { } line && !line.Contains("\"return\"", StringComparison.Ordinal))
            {
            }

            return new PowerOffWatch(socket, reader, pidfd);
        }
        catch
        {
            socket.Dispose();
            Libc.close(pidfd);
            throw;
        }
    }

    private async Task ReadEventsAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (!root.TryGetProperty("event", out var name) || !root.TryGetProperty("timestamp", out var stamp))
                {
                    continue;
                }

                var at = DateTimeOffset.FromUnixTimeSeconds(stamp.GetProperty("seconds").GetInt64())
                    .AddTicks(stamp.GetProperty("microseconds").GetInt64() * 10);
                switch (name.GetString())
                {
                    case "POWERDOWN":
                        PowerdownAt ??= at;
                        break;
                    case "SHUTDOWN":
                        ShutdownAt ??= at;
                        ShutdownReason ??= root.TryGetProperty("data", out var data) && data.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or JsonException)
        {
            // QEMU closed the monitor as it exited, or the watch was disposed.
        }
    }

    /// <summary>Owns the pidfd: a guest that never exits is killed by its owner, and this thread then ends too.</summary>
    private unsafe void WaitForExit()
    {
        var fds = new Libc.PollFd { Fd = _pidfd, Events = Libc.POLLIN };
        try
        {
            while (true)
            {
                var n = Libc.poll(&fds, 1, -1);
                if (n > 0)
                {
                    _exited.TrySetResult(DateTimeOffset.UtcNow);
                    return;
                }

                if (n < 0 && Libc.LastError != Libc.EINTR)
                {
                    _exited.TrySetException(new InvalidOperationException($"poll(pidfd) failed: {Libc.ErrorText(Libc.LastError)}"));
                    return;
                }
            }
        }
        finally
        {
            Libc.close(_pidfd);
        }
    }

    /// <summary>The events arrive before QEMU exits; give the reader a moment to have parsed them.</summary>
    public async Task SettleAsync()
    {
        await Task.WhenAny(_events, Task.Delay(TimeSpan.FromSeconds(2)));
    }

    public void Dispose() => _monitor.Dispose();
}

using Castra.Qmp;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>The QMP client against the fake QEMU: handshake, errors and per-step bounds.</summary>
public sealed class QmpClientTests : IDisposable
{
    private static readonly QmpTimeouts Quick = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Handshake_then_commands_and_events()
    {
        var vm = _root.Launch("q", "ignore-acpi");
        await using var client = await QmpClient.ConnectAsync(vm.Paths.QmpSocket, Quick, CancellationToken.None);

        using (var status = await client.ExecuteAsync("query-status", TimeSpan.FromSeconds(1), CancellationToken.None))
        {
            Assert.Equal("running", status.Return.GetProperty("status").GetString());
        }

        using (await client.ExecuteAsync("system_powerdown", TimeSpan.FromSeconds(1), CancellationToken.None))
        {
        }

        using (await client.ExecuteAsync("query-status", TimeSpan.FromSeconds(1), CancellationToken.None))
        {
        }

        Assert.Contains(client.RecentEvents, e => e.Name == "POWERDOWN");
    }

    [Fact]
    public async Task A_second_client_gets_no_greeting_while_the_first_is_connected()
    {
        var vm = _root.Launch("busy", "ignore-acpi");
        await using var first = await QmpClient.ConnectAsync(vm.Paths.QmpSocket, Quick, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync(vm.Paths.QmpSocket, Quick, CancellationToken.None));
        Assert.Equal(QmpErrorKind.GreetingTimeout, ex.Kind);
    }

    [Fact]
    public async Task A_killed_qemu_leaves_a_socket_that_refuses()
    {
        var vm = _root.Launch("dead", "graceful");
        vm.Kill();
        await vm.WaitUntilGoneAsync(TimeSpan.FromSeconds(10));
        Assert.True(File.Exists(vm.Paths.QmpSocket));

        var ex = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync(vm.Paths.QmpSocket, Quick, CancellationToken.None));
        Assert.Equal(QmpErrorKind.ConnectionRefused, ex.Kind);
    }

    [Fact]
    public async Task Unknown_commands_fail_with_qemus_error_text()
    {
        var vm = _root.Launch("err", "graceful");
        await using var client = await QmpClient.ConnectAsync(vm.Paths.QmpSocket, Quick, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<QmpException>(() => client.ExecuteAsync("no-such-command", TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(QmpErrorKind.CommandFailed, ex.Kind);
        Assert.Contains("CommandNotFound", ex.Message);
    }

    [Fact]
    public async Task Missing_socket_is_reported_as_missing()
    {
        var ex = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync("/tmp/castra-no-such.sock", Quick, CancellationToken.None));
        Assert.Equal(QmpErrorKind.SocketMissing, ex.Kind);
    }
}

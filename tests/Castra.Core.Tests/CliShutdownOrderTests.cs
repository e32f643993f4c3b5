using System.Text.Json;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>Shutdown order through the native castra binary: up --shutdown-order, down --dry-run/--deadline/--all in groups.</summary>
public sealed class CliShutdownOrderTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Up_records_the_order_and_down_all_stops_group_by_group()
    {
        // web is launched by castra up (its order recorded in vm.json); db and cache are fakes with orders of their own.
        var (up, upOut, upErr) = await CliRunner.RunAsync("up", "web", "--kernel", "/bin/sh", "--qemu", FakeQemuBinary.Path, "--accel", "tcg",
            "--shutdown-order", "10", "--home", _root.Path);
        Assert.True(up == 0, upOut + upErr);
        Assert.Equal(10, VmDefinitionStore.TryRead(_root.Vm("web"))!.ShutdownOrder);
        _root.Launch("db");
        VmDefinitionStore.Write(_root.Vm("db"), new VmDefinition { ShutdownOrder = 20 });
        _root.Launch("cache");

        // The plan: in stopping order, each VM's group and when it may start, and the whole order's worst case.
        var (plan, planOut, _) = await CliRunner.RunAsync("down", "--all", "--dry-run", "--cooperative-timeout", "2", "--term-timeout", "1", "--kill-timeout", "1",
            "--group-delay", "3", "--home", _root.Path);
        Assert.Equal(0, plan);
        var lines = planOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("cache: Running; group 1 (order 0);", lines[0]);
        Assert.StartsWith("web: Running; group 2 (order 10, starts within 7s);", lines[1]);
        Assert.StartsWith("db: Running; group 3 (order 20, starts within 14s);", lines[2]);
        Assert.Contains("worst case of the whole order 18s", lines[3]);

        var (_, jsonOut, _) = await CliRunner.RunAsync("down", "--all", "--dry-run", "--json", "--cooperative-timeout", "2", "--term-timeout", "1", "--kill-timeout", "1",
            "--group-delay", "3", "--home", _root.Path);
        var plans = jsonOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1, 2, 3], plans.Select(p => p.GetProperty("Group").GetInt32()));
        Assert.Equal([0, 10, 20], plans.Select(p => p.GetProperty("ShutdownOrder").GetInt32()));
        Assert.Equal([0L, 7_000L, 14_000L], plans.Select(p => p.GetProperty("EarlierGroupsMs").GetInt64()));
        Assert.All(plans, p => Assert.Equal(18_000, p.GetProperty("OrderWorstCaseMs").GetInt64()));

        // Each VM (4 s) fits a 10 s deadline, the order (18 s) does not: the dry run and the run both say so, exit 4.
        var (dryRefused, _, dryErr) = await CliRunner.RunAsync("down", "--all", "--dry-run", "--cooperative-timeout", "2", "--term-timeout", "1", "--kill-timeout", "1",
            "--group-delay", "3", "--deadline", "10", "--home", _root.Path);
        Assert.Equal(4, dryRefused);
        Assert.Contains("The shutdown order", dryErr);
        var (refused, _, refusedErr) = await CliRunner.RunAsync("down", "--all", "--cooperative-timeout", "2", "--term-timeout", "1", "--kill-timeout", "1",
            "--group-delay", "3", "--deadline", "10", "--home", _root.Path);
        Assert.Equal(4, refused);
        Assert.Contains("CastraDeadlineExceeded", refusedErr);
        Assert.Equal("Running", (await VmInventory.DescribeAsync(_root.Vm("cache"))).State);

        // --ignore-order: one group, and the same deadline fits.
        var (flat, _, _) = await CliRunner.RunAsync("down", "--all", "--dry-run", "--ignore-order", "--cooperative-timeout", "2", "--term-timeout", "1", "--kill-timeout", "1",
            "--group-delay", "3", "--deadline", "10", "--home", _root.Path);
        Assert.Equal(0, flat);

        // The run: group by group, each event line saying its VM's order.
        var (down, downOut, downErr) = await CliRunner.RunAsync("down", "--all", "--json", "--home", _root.Path);
        Assert.True(down == 0, downOut + downErr);
        Assert.Contains("castra: web: shutdown order 10: waiting for group 1 (order 0: cache) to stop", downErr);
        Assert.Contains("castra: db: shutdown order 20: waiting for group 2 (order 10: web) to stop", downErr);
        Assert.DoesNotContain("castra: cache:", downErr);
        var events = downOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        DateTime At(string vm, string type) => events.Single(e => e.GetProperty("VmName").GetString() == vm && e.GetProperty("Type").GetString() == type).GetProperty("Timestamp").GetDateTime();
        Assert.True(At("cache", "ShutdownComplete") <= At("web", "ShutdownRequested"));
        Assert.True(At("web", "ShutdownComplete") <= At("db", "ShutdownRequested"));
        Assert.Equal(10, events.Single(e => e.GetProperty("VmName").GetString() == "web" && e.GetProperty("Type").GetString() == "ShutdownRequested")
            .GetProperty("ShutdownOrder").GetInt32());
    }

    [Fact]
    public async Task Sigint_while_a_group_waits_exits_130_and_leaves_that_group_untouched()
    {
        var slow = _root.Launch("slow", "ignore-acpi");
        VmDefinitionStore.Write(_root.Vm("slow"), new VmDefinition { ShutdownOrder = 1 });
        var db = _root.Launch("db");
        VmDefinitionStore.Write(_root.Vm("db"), new VmDefinition { ShutdownOrder = 2 });
        using var cli = CliRunner.Start("down", "slow", "db", "--home", _root.Path, "--cooperative-timeout", "60", "--json");
        var seen = new List<string>();
        string? line;
        do
        {
            line = await cli.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line is not null)
            {
                seen.Add(line);
            }
        }
        while (line is not null && !line.Contains("CooperativeAttempted", StringComparison.Ordinal));

        Assert.Equal(0, Castra.Native.Libc.kill(cli.Id, Castra.Native.Libc.SIGINT));
        seen.Add(await cli.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(130, cli.ExitCode);
        Assert.DoesNotContain(seen, l => l.Contains("\"VmName\":\"db\"", StringComparison.Ordinal));
        Assert.True(db.IsAlive);
        Assert.Equal(0, db.Count("qmp-connect"));
        Assert.True(slow.IsAlive);
        Assert.Equal(0, slow.Count("signal:TERM"));
    }

    [Theory]
    [InlineData("up", "a", "--kernel", "/bin/sh", "--shutdown-order", "-1")]
    [InlineData("up", "a", "--kernel", "/bin/sh", "--shutdown-order", "1001")]
    [InlineData("up", "a", "--kernel", "/bin/sh", "--shutdown-order", "1.5")]
    [InlineData("up", "a", "--kernel", "/bin/sh", "--shutdown-order", "ten")]
    [InlineData("up", "a", "--kernel", "/bin/sh", "--shutdown-order", "+5")]
    [InlineData("down", "a", "--group-delay", "-1")]
    [InlineData("down", "a", "--group-delay", "NaN")]
    [InlineData("down", "a", "--group-delay", "86401")]
    public async Task Bad_orders_and_delays_are_usage_errors(params string[] args)
    {
        var (exit, _, stderr) = await CliRunner.RunAsync([.. args, "--home", _root.Path]);
        Assert.Equal(2, exit);
        Assert.Contains(args[^2], stderr);
        Assert.False(Directory.Exists(_root.Vm("a").Directory), "nothing was started");
    }

    [Fact]
    public async Task Set_changes_the_order_and_says_what_it_was()
    {
        _root.Launch("web");
        _root.Launch("broken");
        File.WriteAllText(_root.Vm("broken").Definition, "[1, 2");

        var (set, setOut, setErr) = await CliRunner.RunAsync("set", "web", "--shutdown-order", "20", "--home", _root.Path);
        Assert.True(set == 0, setOut + setErr);
        Assert.Equal("web: shutdown order 20 (was not set: 0)", setOut.Trim());
        var (again, againOut, _) = await CliRunner.RunAsync("set", "web", "--shutdown-order", "5", "--json", "--home", _root.Path);
        Assert.Equal(0, again);
        Assert.Equal(5, JsonDocument.Parse(againOut).RootElement.GetProperty("ShutdownOrder").GetInt32());
        Assert.Equal(5, VmDefinitionStore.TryRead(_root.Vm("web"))!.ShutdownOrder);

        var (ps, psOut, _) = await CliRunner.RunAsync("ps", "--json", "--home", _root.Path);
        Assert.Equal(0, ps);
        Assert.Contains("\"ShutdownOrder\":5", psOut);

        Assert.Equal(3, (await CliRunner.RunAsync("set", "ghost", "--shutdown-order", "1", "--home", _root.Path)).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("set", "web", "--home", _root.Path)).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("set", "web", "--shutdown-order", "1.5", "--home", _root.Path)).ExitCode);
        var (refused, _, refusedErr) = await CliRunner.RunAsync("set", "broken", "--shutdown-order", "1", "--home", _root.Path);
        Assert.Equal(1, refused);
        Assert.Contains("CastraVmDefinitionInvalid", refusedErr);
        Assert.Equal("[1, 2", File.ReadAllText(_root.Vm("broken").Definition));
    }
}

using System.Diagnostics;
using System.Text.Json;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// The documented recipe for scheduled tasks (examples/stop-all-vms.ps1), run as a task runs it: pwsh -NonInteractive
/// -File, no terminal, no standard input. Standard output is pure JSON; the exit code says whether all went well.
/// </summary>
public sealed class ScheduledTaskTests : IDisposable
{
    private readonly FakeStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private (int Exit, string Stdout, string Stderr) RunTask(params string[] arguments)
    {
        var start = new ProcessStartInfo(BuiltModule.Repo(".tools/pwsh/pwsh"),
            ["-NonInteractive", "-NoProfile", "-File", BuiltModule.Repo("examples/stop-all-vms.ps1"), .. arguments, "-StateRoot", _root.Path])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PSModulePath"] = System.IO.Path.GetDirectoryName(BuiltModule.Directory)!;
        using var pwsh = Process.Start(start)!;
        pwsh.StandardInput.Close(); // no standard input, as under a scheduler
        var stdout = pwsh.StandardOutput.ReadToEndAsync();
        var stderr = pwsh.StandardError.ReadToEndAsync();
        Assert.True(pwsh.WaitForExit(120_000), "the task did not finish");
        return (pwsh.ExitCode, stdout.Result, stderr.Result);
    }

    private static List<JsonElement> Events(string json) => [.. JsonDocument.Parse(json).RootElement.EnumerateArray()];

    [Fact]
    public void All_graceful_exits_zero_and_standard_output_is_the_events_as_JSON()
    {
        _root.Launch("web");
        _root.Launch("db");

        var (exit, stdout, stderr) = RunTask();

        Assert.True(exit == 0, stderr);
        var events = Events(stdout);
        Assert.Equal(8, events.Count);
        Assert.All(events.Where(e => e.GetProperty("Type").GetString() == "ShutdownComplete"), e => Assert.Equal("Graceful", e.GetProperty("Outcome").GetString()));
        Assert.All(events, e => Assert.EndsWith("Z", e.GetProperty("Timestamp").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public void A_VM_that_had_to_be_forced_exits_non_zero_and_the_JSON_file_still_holds_every_event()
    {
        _root.Launch("web");
        _root.Launch("stuck", "ignore-acpi");
        File.WriteAllText(System.IO.Path.Combine(_root.VmDirectory("stuck"), "vm.json"), "{\"CooperativeTimeoutSeconds\": 1, \"TermTimeoutSeconds\": 5}");
        var json = System.IO.Path.Combine(_root.Path, "events.json");

        var (exit, stdout, stderr) = RunTask("-JsonPath", json);

        Assert.Equal(1, exit);
        Assert.Equal("", stdout.Trim());
        Assert.Contains("WARNING: stuck had to be forced", stderr); // on standard error, not lost
        var events = Events(File.ReadAllText(json));
        Assert.Contains(events, e => e.GetProperty("VmName").GetString() == "stuck" && e.GetProperty("Type").GetString() == "Escalation");
        Assert.Equal(2, events.Count(e => e.GetProperty("Type").GetString() == "ShutdownComplete"));
    }

    [Fact]
    public void An_unknown_name_exits_non_zero_after_the_known_VMs_were_stopped()
    {
        var web = _root.Launch("web");

        var (exit, stdout, stderr) = RunTask("web", "nosuch");

        Assert.Equal(1, exit);
        Assert.Contains("nosuch", stderr);
        Assert.Equal("Graceful", Events(stdout).Last().GetProperty("Outcome").GetString());
        Assert.False(web.IsAlive);
    }
}

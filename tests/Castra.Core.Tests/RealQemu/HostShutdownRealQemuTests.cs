using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Castra.Native;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.RealQemu;

/// <summary>
/// The host-shutdown unit's stop command, taken from the written unit file and unquoted as systemd does, run against
/// two real guests (one powers off, one ignores ACPI) under a state root whose path has a space and a %.
/// </summary>
[Collection(RealQemuGroup.Name)]
public sealed partial class HostShutdownRealQemuTests : IDisposable
{
    private readonly string _path = Path.Combine("/tmp", $"castra hs% {Guid.NewGuid():N}"[..24]);
    private readonly StateRoot _root;

    public HostShutdownRealQemuTests()
    {
        Directory.CreateDirectory(Path.Combine(_path, "vms"));
        _root = new StateRoot(_path);
    }

    public void Dispose()
    {
        foreach (var name in _root.ListVmNames())
        {
            var pidFile = _root.Vm(name).PidFile;
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                Libc.kill(pid, Libc.SIGKILL);
            }
        }

        Directory.Delete(_path, recursive: true);
    }

    [Fact]
    public async Task The_units_ExecStop_stops_every_vm_within_TimeoutStopSec_with_line_oriented_output()
    {
        await Task.WhenAll(RealGuest.StartAsync(_root, "acpi", "acpi"), RealGuest.StartAsync(_root, "deaf", "noacpi"));
        var units = Path.Combine(_path, "units");

        var (exit, stdout, stderr) = await CliRunner.RunAsync("host-shutdown", "install", "--unit-dir", units, "--home", _path, "--cooperative-timeout", "3", "--no-systemctl");
        Assert.True(exit == 0, stderr);
        var unit = UnitFileText.Parse(File.ReadAllText(Path.Combine(units, "castra-guests.service")));
        var argv = UnitFileText.ExecArgv(unit.One("Service", "ExecStop"));
        var timeoutStop = TimeSpan.FromSeconds(long.Parse(unit.One("Service", "TimeoutStopSec"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([NativeCli.Path, "down", "--all", "--home", _path], argv.Take(5));
        Assert.Contains("over 2 VM(s)", stdout, StringComparison.Ordinal);

        // The budget is at least the engine's own preview of the running VMs (the same options: --cooperative-timeout 3).
        var (planExit, plans, _) = await CliRunner.RunAsync("down", "--all", "--dry-run", "--json", "--home", _path, "--cooperative-timeout", "3");
        Assert.Equal(0, planExit);
        var previewWorst = plans.Split('\n', StringSplitOptions.RemoveEmptyEntries).Max(line => JsonDocument.Parse(line).RootElement.GetProperty("WorstCaseMs").GetInt64());
        Assert.True(previewWorst > 0);
        Assert.True(timeoutStop.TotalMilliseconds >= previewWorst + 30_000, $"TimeoutStopSec {timeoutStop} < preview {previewWorst} ms + margin");

        // As systemd runs it: that argv, no terminal, no CASTRA_HOME and a HOME with no state root (--home decides).
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in argv.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Remove("CASTRA_HOME");
        psi.Environment["HOME"] = "/nonexistent";
        using var stop = Process.Start(psi)!;
        stop.StandardInput.Close();
        var output = stop.StandardOutput.ReadToEndAsync();
        var errors = stop.StandardError.ReadToEndAsync();
        using (var bound = new CancellationTokenSource(timeoutStop))
        {
            await stop.WaitForExitAsync(bound.Token);
        }

        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(stop.ExitCode == 0, $"exit {stop.ExitCode}\n{await output}\n{await errors}");

        // Line-oriented for the journal: one event per line (continuations indented), no terminal control characters.
        Assert.All(lines, line => Assert.True(EventLine().IsMatch(line) || line.StartsWith("    ", StringComparison.Ordinal), $"not an event line: {line}"));
        Assert.DoesNotContain(lines, line => line.Any(c => c is '\r' or '\x1b' or '\b'));
        foreach (var vm in new[] { "acpi", "deaf" })
        {
            Assert.Contains(lines, l => l.Contains($" {vm} [", StringComparison.Ordinal) && l.Contains("ShutdownRequested: shutdown requested (SystemShutdown: host shutdown (castra-guests.service))", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains($" {vm} [", StringComparison.Ordinal) && l.Contains("ShutdownComplete:", StringComparison.Ordinal));
            Assert.Equal("Stopped", (await VmInventory.DescribeAsync(_root.Vm(vm))).State);
        }

        Assert.Contains("CASTRA-POWEROFF acpi", RealGuest.SerialLog(_root.Vm("acpi")));
        Assert.Contains(lines, l => l.Contains(" deaf [", StringComparison.Ordinal) && l.Contains("Escalation:", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^\d{2}:\d{2}:\d{2}\.\d{3} [a-z]+ \[\d+\] [A-Za-z]+: \S")]
    private static partial Regex EventLine();
}

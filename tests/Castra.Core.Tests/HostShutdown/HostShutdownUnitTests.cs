using System.Diagnostics;
using Castra.Errors;
using Castra.HostShutdown;
using Castra.Hooks;
using Castra.Processes;
using Castra.Sessions;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.HostShutdown;

/// <summary>The unit Castra writes, read back as systemd reads it: structure, ExecStop argv, TimeoutStopSec from the plans.</summary>
public sealed class HostShutdownUnitTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private HostShutdownSettings Settings(string? stateRoot = null, string castra = "/usr/local/bin/castra") => new()
    {
        CastraPath = castra,
        StateRoot = stateRoot ?? _root.Path,
        UnitDirectory = Path.Combine(_root.Path, "units"),
    };

    [Theory]
    [InlineData("/srv/vms 100%")]
    [InlineData("/srv/$HOME/${X}/$$")]
    [InlineData("/srv/back\\slash\\")]
    [InlineData("/srv/\"quoted\" 'single'")]
    [InlineData("/srv/%n %i %%")]
    [InlineData("/srv/tab\there")]
    [InlineData("/srv/semi;colon ;")]
    [InlineData("/srv/ünïcødé")]
    public async Task ExecStop_reads_back_as_the_intended_argv(string stateRoot)
    {
        var unit = await HostShutdownService.PreviewAsync(Settings(stateRoot, castra: "/opt/castra $tools/100%/castra") with { ThrottleLimit = 3, CooperativeTimeout = TimeSpan.FromSeconds(2.5) }, Castra.Text.Wording.Neutral);

        var argv = UnitFileText.ExecArgv(UnitFileText.Parse(unit.Text).One("Service", "ExecStop"));

        Assert.Equal(
            ["/opt/castra $tools/100%/castra", "down", "--all", "--home", stateRoot, "--reason", "SystemShutdown", "--message", "host shutdown (castra-guests.service)",
             "--cooperative-timeout", "2.5", "--throttle", "3"],
            argv);
        Assert.Equal(unit.StopCommand, argv);
    }

    [Fact]
    public void A_lone_semicolon_argument_is_escaped_and_nothing_plain_is_quoted()
    {
        Assert.Equal("\\;", SystemdQuoting.ExecArgument(";"));
        Assert.Equal("--all", SystemdQuoting.ExecArgument("--all"));
        Assert.Equal("\"\"", SystemdQuoting.ExecArgument(""));
        Assert.Equal([""], UnitFileText.ExecArgv(SystemdQuoting.ExecArgument("")));
    }

    [Fact]
    public async Task The_unit_is_a_oneshot_that_stays_active_and_stops_the_vms_into_the_journal()
    {
        var unit = await HostShutdownService.PreviewAsync(Settings() with { After = ["postgresql.service"], Before = ["backup.service"] }, Castra.Text.Wording.Neutral);
        var file = UnitFileText.Parse(unit.Text);

        Assert.Equal(HostShutdownUnit.Marker, file.Comments[0]);
        Assert.Equal(["Unit", "Service", "Install"], file.Sections);
        Assert.Equal("oneshot", file.One("Service", "Type"));
        Assert.Equal("yes", file.One("Service", "RemainAfterExit"));
        Assert.Equal([HostShutdownUnit.StartCommand], UnitFileText.ExecArgv(file.One("Service", "ExecStart")));
        Assert.Equal("journal", file.One("Service", "StandardOutput"));
        Assert.Equal("journal", file.One("Service", "StandardError"));
        Assert.Equal("multi-user.target", file.One("Install", "WantedBy"));
        Assert.Equal([.. HostShutdownSettings.DefaultAfter, "postgresql.service"], file.Values("Unit", "After"));
        Assert.Equal(["backup.service"], file.Values("Unit", "Before"));
        Assert.Equal(unit.TimeoutStopSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), file.One("Service", "TimeoutStopSec"));
        Assert.Equal([_root.Path], UnitFileText.ExecArgv(file.One("Unit", "RequiresMountsFor")));
    }

    [Fact]
    public async Task TimeoutStopSec_is_the_longest_plan_as_if_running_plus_the_margin()
    {
        // No VMs: the defaults' worst case (60 + 10 + 5 s and a session drain), so a VM created later with them fits.
        var drain = SessionDrainer.Budget(ShutdownOptions.DefaultDrainTimeout);
        var empty = await HostShutdownService.PreviewAsync(Settings() with { Margin = TimeSpan.FromSeconds(7) }, Castra.Text.Wording.Neutral);
        var floor = TimeSpan.FromSeconds(60 + 10 + 5) + drain;
        Assert.Equal((long)floor.TotalMilliseconds, empty.WorstCaseMs);
        Assert.Equal((long)Math.Ceiling((floor + TimeSpan.FromSeconds(7)).TotalSeconds), empty.TimeoutStopSeconds);

        // A stopped VM whose vm.json asks for 300 s and who has a 40 s PreStop hook counts as if it were running.
        Directory.CreateDirectory(_root.Vm("slow").Directory);
        VmDefinitionStore.Write(_root.Vm("slow"), new VmDefinition { Name = "slow", CooperativeTimeoutSeconds = 300, TermTimeoutSeconds = 20 });
        Directory.CreateDirectory(_root.Vm("quick").Directory);
        HookScripts.Register(_root, "export", "true", timeoutSeconds: 40, vm: "slow");

        var unit = await HostShutdownService.PreviewAsync(Settings() with { Margin = TimeSpan.FromSeconds(7) }, Castra.Text.Wording.Neutral);

        var slow = TimeSpan.FromSeconds(300 + 20 + 5) + drain + TimeSpan.FromSeconds(40) + GroupLeader.Grace + GroupLeader.Grace;
        Assert.Equal((long)slow.TotalMilliseconds, unit.WorstCaseMs);
        Assert.Equal(2, unit.VmCount);
        Assert.Equal((long)Math.Ceiling((slow + TimeSpan.FromSeconds(7)).TotalSeconds), unit.TimeoutStopSeconds);

        // A throttle of 1 queues the two VMs: two batches as long as the longest, as the -Deadline check counts them.
        var throttled = await HostShutdownService.PreviewAsync(Settings() with { Margin = TimeSpan.Zero, ThrottleLimit = 1 }, Castra.Text.Wording.Neutral);
        Assert.Equal(2 * (long)slow.TotalMilliseconds, throttled.WorstCaseMs);

        // The unit's own options count: a shorter cooperative window lowers every VM's worst case.
        var shorter = await HostShutdownService.PreviewAsync(Settings() with { CooperativeTimeout = TimeSpan.FromSeconds(30) }, Castra.Text.Wording.Neutral);
        Assert.Equal((long)(slow - TimeSpan.FromSeconds(270)).TotalMilliseconds, shorter.WorstCaseMs);

        // In shutdown order the groups follow each other: quick (order 5) only starts once slow (order 0) has ended.
        VmDefinitionStore.Write(_root.Vm("quick"), new VmDefinition { Name = "quick", ShutdownOrder = 5 });
        var ordered = await HostShutdownService.PreviewAsync(Settings() with { Margin = TimeSpan.Zero }, Castra.Text.Wording.Neutral);
        Assert.Equal((long)(slow + floor).TotalMilliseconds, ordered.WorstCaseMs);
    }

    [Fact]
    public void Bad_settings_are_refused_with_a_stable_id()
    {
        foreach (var bad in new[]
                 {
                     Settings() with { CastraPath = "castra" },
                     Settings() with { CastraPath = "/opt/back\\slash/castra" },
                     Settings() with { CastraPath = "/opt/\"quoted\"/castra" },
                     Settings() with { CastraPath = "/opt/it's/castra" },
                     Settings(stateRoot: "relative/root"),
                     Settings() with { UnitName = "../evil.service" },
                     Settings() with { UnitName = "castra@.service" },
                     Settings() with { After = ["not a unit"] },
                     Settings() with { Before = ["x.service\nExecStart=/bin/evil"] },
                     Settings() with { Margin = TimeSpan.FromSeconds(-1) },
                     Settings(stateRoot: "/srv/a\nExecStop=/bin/evil"),
                 })
        {
            var ex = Assert.Throws<CastraException>(bad.Validate);
            Assert.Equal(ErrorIds.InvalidHostShutdownUnit, ex.ErrorId);
        }
    }

    [Fact]
    public async Task Systemd_analyze_verify_accepts_the_unit_with_spaces_percent_and_dollar_in_every_path()
    {
        // The castra the unit runs sits in a directory with a space and a %: verify checks that ExecStop's program
        // exists, so a mis-quoted path fails it (checked below with a path that does not exist).
        var bin = Path.Combine(_root.Path, "bin dir 100% $HOME");
        Directory.CreateDirectory(bin);
        var castra = Path.Combine(bin, "castra");
        File.Copy("/bin/true", castra);
        var stateRoot = Path.Combine(_root.Path, "state root 50%");
        var unit = await HostShutdownService.PreviewAsync(Settings(stateRoot, castra), Castra.Text.Wording.Neutral);
        var written = Path.Combine(_root.Path, "units", unit.UnitName);
        UnitFileStore.Install(unit with { Path = written }, replaceForeign: false, Castra.Text.Wording.Neutral);

        var (exit, output) = await VerifyAsync(written);
        Assert.True(exit == 0, output);
        Assert.Equal("", output.Trim());

        var missing = await HostShutdownService.PreviewAsync(Settings(stateRoot, Path.Combine(bin, "no-such-castra")), Castra.Text.Wording.Neutral);
        File.WriteAllText(written, missing.Text);
        (exit, output) = await VerifyAsync(written);
        Assert.NotEqual(0, exit);
        Assert.Contains("no-such-castra", output);
    }

    [Fact]
    public async Task The_retired_unit_a_remove_stops_has_nothing_to_run_at_stop_and_verifies()
    {
        var retired = HostShutdownUnit.Retired(Path.Combine(_root.Path, "units"), "castra-guests.service");
        var file = UnitFileText.Parse(retired.Text);

        Assert.Equal(HostShutdownUnit.Marker, file.Comments[0]); // still Castra's: the remove deletes it next
        Assert.Empty(file.Values("Service", "ExecStop"));
        Assert.Equal([HostShutdownUnit.StartCommand], UnitFileText.ExecArgv(file.One("Service", "ExecStart")));
        UnitFileStore.Install(retired, replaceForeign: false, Castra.Text.Wording.Neutral);
        var (exit, output) = await VerifyAsync(retired.Path);
        Assert.True(exit == 0, output);
    }

    /// <summary>systemd-analyze verify (Debian package systemd; build.sh installs it): it needs no running systemd.</summary>
    private static async Task<(int Exit, string Output)> VerifyAsync(string unitPath)
    {
        var analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("systemd-analyze is missing: install the Debian package systemd (./build.sh installs it)");
        var psi = new ProcessStartInfo(analyze, ["verify", unitPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

using System.Text.Json;
using Castra.HostShutdown;
using Castra.Tests.Support;

namespace Castra.Tests.HostShutdown;

/// <summary><c>castra host-shutdown</c> through the native binary: what it writes, what it refuses, its exit codes.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CliHostShutdownTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public CliHostShutdownTests()
    {
        Units = Path.Combine(_root.Path, "units");
        Directory.CreateDirectory(Units);
        UnitPath = Path.Combine(Units, HostShutdownSettings.DefaultUnitName);
    }

    private string Units { get; }

    private string UnitPath { get; }

    public void Dispose() => _root.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string verb, params string[] more) =>
        CliRunner.RunAsync(["host-shutdown", verb, "--unit-dir", Units, .. verb == "remove" ? Array.Empty<string>() : ["--home", _root.Path], .. more]);

    [Fact]
    public async Task Show_prints_the_unit_install_writes_and_writes_nothing()
    {
        var (exit, shown, stderr) = await RunAsync("show", "--margin", "12", "--after", "postgresql.service");
        Assert.True(exit == 0, stderr);
        Assert.Empty(Directory.GetFileSystemEntries(Units));
        var unit = UnitFileText.Parse(shown);
        Assert.Equal(HostShutdownUnit.Marker, unit.Comments[0]);
        Assert.Equal(NativeCli.Path, UnitFileText.ExecArgv(unit.One("Service", "ExecStop"))[0]);
        Assert.Contains("postgresql.service", unit.Values("Unit", "After"));

        var (jsonExit, json, _) = await RunAsync("show", "--margin", "12", "--json");
        Assert.Equal(0, jsonExit);
        using var doc = JsonDocument.Parse(json);
        var timeout = doc.RootElement.GetProperty("TimeoutStopSeconds").GetInt64();
        Assert.Equal((doc.RootElement.GetProperty("WorstCaseMs").GetInt64() + 12_000 + 999) / 1000, timeout);
        Assert.Equal(12_000, doc.RootElement.GetProperty("MarginMs").GetInt64());

        (exit, _, _) = await RunAsync("install", "--margin", "12", "--after", "postgresql.service", "--no-systemctl");
        Assert.Equal(0, exit);
        Assert.Equal(shown, File.ReadAllText(UnitPath));
    }

    [Fact]
    public async Task Install_writes_0644_atomically_and_prints_what_systemctl_must_do()
    {
        var (exit, stdout, stderr) = await RunAsync("install", "--no-systemctl");

        Assert.True(exit == 0, stderr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(UnitPath));
        Assert.Equal([HostShutdownSettings.DefaultUnitName], Directory.GetFileSystemEntries(Units).Select(Path.GetFileName)); // no temp file left
        Assert.StartsWith($"installed {UnitPath}: TimeoutStopSec=", stdout, StringComparison.Ordinal);
        Assert.Contains("    systemctl daemon-reload\n", stdout, StringComparison.Ordinal);
        Assert.Contains($"    systemctl enable --now {HostShutdownSettings.DefaultUnitName}\n", stdout, StringComparison.Ordinal);

        // Again: the file is Castra's, so it is replaced.
        (exit, stdout, _) = await RunAsync("install", "--no-systemctl", "--margin", "1");
        Assert.Equal(0, exit);
        Assert.StartsWith("replaced ", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_running_systemd_install_and_remove_print_the_systemctl_commands_instead()
    {
        // This machine's PID 1 is not systemd (a container); on one where it is, the commands are run instead.
        var systemd = Directory.Exists("/run/systemd/system");
        var name = $"castra-test-{Guid.NewGuid():N}.service";

        var (exit, stdout, stderr) = await RunAsync("install", "--unit-name", name);

        if (systemd)
        {
            // Our test directory is not in systemd's search path: enabling it fails, and says so.
            Assert.Equal(1, exit);
            Assert.Contains("[CastraSystemctlFailed]", stderr, StringComparison.Ordinal);
            return;
        }

        Assert.True(exit == 0, stderr);
        Assert.Contains("systemd is not running this host (PID 1 is not systemd)", stdout, StringComparison.Ordinal);
        Assert.Contains($"    systemctl enable --now {name}\n", stdout, StringComparison.Ordinal);

        (exit, stdout, stderr) = await RunAsync("remove", "--unit-name", name);
        Assert.True(exit == 0, stderr);
        Assert.False(File.Exists(Path.Combine(Units, name)));
        Assert.Contains("    systemctl daemon-reload\n", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("stop", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_unit_castra_did_not_write_is_neither_replaced_nor_removed_unless_forced()
    {
        const string theirs = "[Service]\nExecStop=/usr/local/bin/their-own-script\n";
        File.WriteAllText(UnitPath, theirs);

        var (exit, _, stderr) = await RunAsync("install", "--no-systemctl");
        Assert.Equal(1, exit);
        Assert.Contains("[CastraHostShutdownUnitForeign]", stderr, StringComparison.Ordinal);
        Assert.Contains("--force", stderr, StringComparison.Ordinal);
        Assert.Equal(theirs, File.ReadAllText(UnitPath));

        (exit, _, stderr) = await RunAsync("remove", "--no-systemctl");
        Assert.Equal(1, exit);
        Assert.Contains("[CastraHostShutdownUnitForeign]", stderr, StringComparison.Ordinal);
        Assert.Equal(theirs, File.ReadAllText(UnitPath));

        // Our first line planted in the middle of a file does not make it ours.
        File.WriteAllText(UnitPath, "[Unit]\n" + HostShutdownUnit.Marker + "\n");
        (exit, _, _) = await RunAsync("remove", "--no-systemctl");
        Assert.Equal(1, exit);

        (exit, var stdout, stderr) = await RunAsync("install", "--no-systemctl", "--force");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("replaced ", stdout, StringComparison.Ordinal);
        Assert.StartsWith(HostShutdownUnit.Marker + "\n", File.ReadAllText(UnitPath), StringComparison.Ordinal);

        (exit, _, stderr) = await RunAsync("remove", "--no-systemctl");
        Assert.True(exit == 0, stderr);
        Assert.False(File.Exists(UnitPath));

        (exit, _, stderr) = await RunAsync("remove", "--no-systemctl");
        Assert.Equal(3, exit);
        Assert.Contains("[CastraHostShutdownUnitNotFound]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_at_the_unit_path_is_never_written_through_nor_removed()
    {
        // A link to a unit Castra wrote elsewhere: following it would write (or delete) whatever it points to.
        var elsewhere = Path.Combine(_root.Path, "elsewhere.service");
        var (exit, _, _) = await CliRunner.RunAsync("host-shutdown", "install", "--unit-dir", _root.Path, "--unit-name", "elsewhere.service", "--home", _root.Path, "--no-systemctl");
        Assert.Equal(0, exit);
        var target = File.ReadAllText(elsewhere);
        File.CreateSymbolicLink(UnitPath, elsewhere);

        foreach (var args in new[] { new[] { "install", "--no-systemctl" }, ["install", "--no-systemctl", "--force"], ["remove", "--no-systemctl"] })
        {
            var (code, _, stderr) = await RunAsync(args[0], args[1..]);
            Assert.Equal(1, code);
            Assert.Contains("[CastraUnsafeStateFile]", stderr, StringComparison.Ordinal);
            Assert.Contains("symbolic link", stderr, StringComparison.Ordinal);
            Assert.Equal(elsewhere, new FileInfo(UnitPath).LinkTarget);
            Assert.Equal(target, File.ReadAllText(elsewhere));
        }
    }

    [Fact]
    public async Task Remove_also_deletes_the_wants_link_an_offline_enable_made_and_nothing_else()
    {
        var (exit, _, stderr) = await RunAsync("install", "--no-systemctl");
        Assert.True(exit == 0, stderr);
        var wants = Path.Combine(Units, "multi-user.target.wants");
        Directory.CreateDirectory(wants);
        var link = Path.Combine(wants, HostShutdownSettings.DefaultUnitName);
        File.CreateSymbolicLink(link, "../" + HostShutdownSettings.DefaultUnitName);
        var other = Path.Combine(wants, "other.service");
        File.CreateSymbolicLink(other, "/lib/systemd/system/other.service");

        (exit, _, stderr) = await RunAsync("remove", "--no-systemctl");

        Assert.True(exit == 0, stderr);
        Assert.False(File.Exists(UnitPath));
        Assert.Null(new FileInfo(link).LinkTarget); // gone (a dangling link would still have a target)
        Assert.Equal("/lib/systemd/system/other.service", new FileInfo(other).LinkTarget);

        // A wants entry of our name that is not a link to our unit is not ours to delete.
        (exit, _, _) = await RunAsync("install", "--no-systemctl");
        Assert.Equal(0, exit);
        File.CreateSymbolicLink(link, "/somewhere/else.service");
        (exit, _, _) = await RunAsync("remove", "--no-systemctl");
        Assert.Equal(0, exit);
        Assert.Equal("/somewhere/else.service", new FileInfo(link).LinkTarget);
    }

    [Fact]
    public async Task A_unit_directory_others_can_write_is_refused()
    {
        File.SetUnixFileMode(Units, (UnixFileMode)0x1FF); // 0777
        var (exit, _, stderr) = await RunAsync("install", "--no-systemctl");
        Assert.Equal(1, exit);
        Assert.Contains("[CastraUnsafeStateFile]", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(UnitPath));
    }

    [Theory]
    [InlineData("--after", "not a unit")]
    [InlineData("--before", "x.service\nExecStart=/bin/evil")]
    [InlineData("--unit-name", "castra.timer")]
    [InlineData("--unit-name", "../castra.service")]
    [InlineData("--margin", "-5")]
    [InlineData("--throttle", "-1")]
    public async Task Bad_options_are_usage_errors(string option, string value)
    {
        var (exit, _, stderr) = await RunAsync("install", "--no-systemctl", option, value);
        Assert.Equal(2, exit);
        Assert.NotEmpty(stderr);
        Assert.Empty(Directory.GetFileSystemEntries(Units));
    }

    [Fact]
    public async Task A_castra_that_does_not_exist_is_refused()
    {
        var (exit, _, stderr) = await RunAsync("install", "--no-systemctl", "--castra", "/nonexistent/castra");
        Assert.Equal(1, exit);
        Assert.Contains("[CastraCliNotFound]", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Units));
    }
}

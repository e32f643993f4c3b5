using Castra.Errors;
using Castra.HostShutdown;
using Castra.Tests.Support;

namespace Castra.Tests.HostShutdown;

/// <summary>
/// What install and remove ask of a running systemd, in order, and what the unit file holds at each call: this
/// machine's PID 1 is not systemd, so a recording runner stands in for systemctl.
/// </summary>
public sealed class SystemctlOrderTests : IDisposable
{
    private readonly TestStateRoot _root = new();
    private readonly List<(string Command, string? UnitText)> _calls = [];

    public void Dispose() => _root.Dispose();

    private string Units => Path.Combine(_root.Path, "units");

    private string UnitPath => Path.Combine(Units, HostShutdownSettings.DefaultUnitName);

    /// <summary>A systemd that records each command with the unit file as it is at that moment.</summary>
    private SystemctlRunner Recording(string? failOn = null) => new(true, (command, _) =>
    {
        var line = string.Join(' ', command);
        _calls.Add((line, File.Exists(UnitPath) ? File.ReadAllText(UnitPath) : null));
        return line == failOn
            ? Task.FromException(new CastraException(ErrorIds.SystemctlFailed, CastraErrorCategory.InvalidOperation, $"'{line}' failed"))
            : Task.CompletedTask;
    });

    private async Task<HostShutdownUnit> InstalledAsync()
    {
        var unit = await HostShutdownService.PreviewAsync(new HostShutdownSettings { CastraPath = "/bin/true", StateRoot = _root.Path, UnitDirectory = Units }, Castra.Text.Wording.Neutral);
        await HostShutdownService.InstallAsync(unit, false, Castra.Text.Wording.Neutral, Recording(), CancellationToken.None);
        return unit;
    }

    [Fact]
    public async Task Install_reloads_then_enables_and_starts_the_unit_already_written()
    {
        var unit = await InstalledAsync();

        Assert.Equal(["systemctl daemon-reload", $"systemctl enable --now {HostShutdownSettings.DefaultUnitName}"], _calls.Select(c => c.Command));
        Assert.All(_calls, c => Assert.Equal(unit.Text, c.UnitText));
    }

    [Fact]
    public async Task Remove_stops_only_a_retired_unit_with_no_ExecStop_then_deletes_it()
    {
        await InstalledAsync();
        _calls.Clear();

        var change = await HostShutdownService.RemoveAsync(Units, HostShutdownSettings.DefaultUnitName, Recording(), CancellationToken.None);

        Assert.Equal(["systemctl daemon-reload", $"systemctl disable --now {HostShutdownSettings.DefaultUnitName}", "systemctl daemon-reload"], _calls.Select(c => c.Command));
        Assert.Equal(change.Commands, _calls.Select(c => c.Command));
        Assert.True(change.SystemctlRun);

        // Whenever systemd reloads or stops the unit before it is deleted, the unit holds nothing that would stop a VM.
        foreach (var (_, text) in _calls.Take(2))
        {
            var file = UnitFileText.Parse(text!);
            Assert.Equal(HostShutdownUnit.Marker, file.Comments[0]);
            Assert.Empty(file.Values("Service", "ExecStop"));
        }

        Assert.Null(_calls[2].UnitText);
        Assert.False(File.Exists(UnitPath));
    }

    [Fact]
    public async Task Remove_of_a_foreign_unit_asks_nothing_of_systemd()
    {
        Directory.CreateDirectory(Units);
        File.WriteAllText(UnitPath, "[Service]\nExecStop=/usr/local/bin/theirs\n");

        var ex = await Assert.ThrowsAsync<CastraException>(() => HostShutdownService.RemoveAsync(Units, HostShutdownSettings.DefaultUnitName, Recording(), CancellationToken.None));

        Assert.Equal(ErrorIds.HostShutdownUnitForeign, ex.ErrorId);
        Assert.Empty(_calls);
        Assert.Equal("[Service]\nExecStop=/usr/local/bin/theirs\n", File.ReadAllText(UnitPath));
    }

    [Fact]
    public async Task A_failing_disable_leaves_the_retired_unit_and_a_second_remove_finishes()
    {
        await InstalledAsync();
        _calls.Clear();

        var ex = await Assert.ThrowsAsync<CastraException>(() => HostShutdownService.RemoveAsync(Units, HostShutdownSettings.DefaultUnitName,
            Recording(failOn: $"systemctl disable --now {HostShutdownSettings.DefaultUnitName}"), CancellationToken.None));

        Assert.Equal(ErrorIds.SystemctlFailed, ex.ErrorId);
        Assert.Empty(UnitFileText.Parse(File.ReadAllText(UnitPath)).Values("Service", "ExecStop"));

        await HostShutdownService.RemoveAsync(Units, HostShutdownSettings.DefaultUnitName, Recording(), CancellationToken.None);
        Assert.False(File.Exists(UnitPath));
    }
}

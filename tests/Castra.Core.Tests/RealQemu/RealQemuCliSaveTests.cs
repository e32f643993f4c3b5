using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Castra.Native;
using Castra.Tests.Support;

namespace Castra.Tests.RealQemu;

/// <summary>The CLI face of a save, through the native binary: castra down --escalation save, castra ps, castra up resuming.</summary>
[Collection(RealQemuGroup.Name)]
public sealed partial class RealQemuCliSaveTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose()
    {
        var pidFile = _root.Vm("cli").PidFile;
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            Libc.kill(pid, Libc.SIGKILL);
        }

        _root.Dispose();
    }

    private string[] Up(params string[] extra) =>
        ["up", "cli", "--kernel", RealGuest.Kernel, "--initrd", RealGuest.Initrd, "--append", "console=ttyS0 quiet castra.mode=counter", "--accel", "tcg", "--home", _root.Path, .. extra];

    [Fact]
    public async Task A_VM_started_with_escalation_save_is_saved_by_down_and_up_resumes_or_refuses_a_changed_definition()
    {
        // The escalation and its timeout are this VM's (vm.json), so a plain castra down saves it.
        var vm = _root.Vm("cli");
        var (upExit, _, upErr) = await CliRunner.RunAsync(Up("--memory", "128", "--escalation", "save", "--save-timeout", "20"));
        Assert.True(upExit == 0, upErr);
        await RealGuest.WaitForSerialAsync(vm, "CASTRA-COUNT 3", TimeSpan.FromSeconds(90));

        var (planExit, plan, _) = await CliRunner.RunAsync("down", "cli", "--cooperative-timeout", "1", "--dry-run", "--home", _root.Path);
        Assert.Equal(0, planExit);
        Assert.Contains("ACPI power button (≤1s) → save to saved-state.img (≤20s) → SIGTERM (≤10s) → SIGKILL (≤5s); worst case 38s", plan, StringComparison.Ordinal);

        var (exit, stdout, stderr) = await CliRunner.RunAsync("down", "cli", "--cooperative-timeout", "1", "--json", "--home", _root.Path);

        Assert.True(exit == 0, stderr);
        var events = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "SaveAttempted", "SaveSucceeded", "ShutdownComplete"], events.Select(e => e.GetProperty("Type").GetString()));
        Assert.Equal(20_000, events[3].GetProperty("TimeoutMs").GetInt64());
        Assert.Equal("Saved", events[^1].GetProperty("Outcome").GetString());
        var lastBefore = Counts(RealGuest.SerialLog(vm)).Max();

        var (_, ps, _) = await CliRunner.RunAsync("ps", "--home", _root.Path);
        Assert.Matches(@"cli\s+Stopped\s+.*\byes\s+Saved", ps);
        var (_, status, _) = await CliRunner.RunAsync("status", "cli", "--home", _root.Path);
        Assert.Contains("Saved in", status, StringComparison.Ordinal);
        Assert.Contains("the next start resumes it", status, StringComparison.Ordinal);

        var (refusedExit, _, refusedErr) = await CliRunner.RunAsync(Up("--memory", "160"));
        Assert.Equal(1, refusedExit);
        Assert.Contains("CastraSavedStateMismatch", refusedErr, StringComparison.Ordinal);
        Assert.Contains("--discard-saved-state", refusedErr, StringComparison.Ordinal);
        Assert.DoesNotContain("-DiscardSavedState", refusedErr, StringComparison.Ordinal);

        var (resumeExit, _, resumeErr) = await CliRunner.RunAsync(Up("--memory", "128"));
        Assert.True(resumeExit == 0, resumeErr);
        Assert.False(File.Exists(Path.Combine(vm.Directory, "saved-state.img")));
        await RealGuest.WaitForSerialAsync(vm, "CASTRA-COUNT", TimeSpan.FromSeconds(30));
        Assert.True(Counts(RealGuest.SerialLog(vm))[0] > lastBefore, "the resumed guest counts on");
    }

    private static List<int> Counts(string log) =>
        CountLine().Matches(log).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();

    [GeneratedRegex(@"CASTRA-COUNT (\d+)")]
    private static partial Regex CountLine();
}

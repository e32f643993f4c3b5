using Castra.Errors;
using Castra.Events;
using Castra.Faces;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Tests;

/// <summary>What the cmdlets compute themselves lives in plain classes: wildcards, options, progress, presentation.</summary>
public sealed class FacesTests : IDisposable
{
    private readonly string _path = Path.Combine("/tmp", "castra-t-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly StateRoot _root;

    public FacesTests()
    {
        _root = new StateRoot(_path);
        foreach (var vm in new[] { "web-1", "web-2", "db", "Web-3" })
        {
            Directory.CreateDirectory(_root.Vm(vm).Directory);
        }
    }

    public void Dispose() => Directory.Delete(_path, recursive: true);

    [Theory]
    [InlineData(new[] { "web*" }, new[] { "Web-3", "web-1", "web-2" })]
    [InlineData(new[] { "web-?" }, new[] { "Web-3", "web-1", "web-2" })]
    [InlineData(new[] { "web-[12]" }, new[] { "web-1", "web-2" })]
    [InlineData(new[] { "*" }, new[] { "Web-3", "db", "web-1", "web-2" })]
    [InlineData(new[] { "db", "d*" }, new[] { "db" })]
    [InlineData(new[] { "ghost" }, new[] { "ghost" })]
    [InlineData(new[] { "gh*" }, new string[0])]
    [InlineData(new[] { "WEB-1" }, new[] { "WEB-1" })]
    public void Names_resolve_with_powershell_wildcard_rules(string[] patterns, string[] expected)
    {
        Assert.Equal(expected, VmNameSelector.Resolve(_root, patterns));
    }

    [Fact]
    public void Backtick_escapes_a_wildcard_character()
    {
        Assert.False(VmNameSelector.HasWildcards("web`*"));
        Assert.Equal(["web*"], VmNameSelector.Resolve(_root, ["web`*"]));
        Assert.True(VmNameSelector.IsMatch("w?b-*", "web-1"));
        Assert.False(VmNameSelector.IsMatch("db", "DB"));
    }

    [Fact]
    public void Command_lines_are_shown_so_that_a_shell_reads_them_back_unchanged()
    {
        Assert.Equal("/bin/echo plain a=b,c@d", CommandLineText.Format("/bin/echo", ["plain", "a=b,c@d"]));
        var text = CommandLineText.Format("/bin/sh", ["-c", "echo \"$HOME\" it's", ""]);
        Assert.Equal("/bin/sh -c 'echo \"$HOME\" it'\\''s' ''", text);

        // The proof: /bin/sh splits it back into the same arguments.
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", "printf '%s\\n' \"$#\"; for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done", "sh", "-c", "echo \"$HOME\" it's", ""]) { RedirectStandardOutput = true };
        using var direct = System.Diagnostics.Process.Start(psi)!;
        var expected = direct.StandardOutput.ReadToEnd();
        direct.WaitForExit();
        var viaText = new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", "set -- " + text[("/bin/sh ".Length)..] + "; printf '%s\\n' \"$#\"; for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done"]) { RedirectStandardOutput = true };
        using var reparsed = System.Diagnostics.Process.Start(viaText)!;
        Assert.Equal(expected, reparsed.StandardOutput.ReadToEnd());
        reparsed.WaitForExit();
    }

    [Theory]
    [InlineData("Graceful", false, true)]
    [InlineData("Graceful", true, false)]
    [InlineData("Failed", false, false)]
    [InlineData("Cancelled", false, false)]
    public void Only_a_vm_found_stopped_is_described_as_nothing_to_do(string outcome, bool changed, bool nothingToDo)
    {
        var text = EventText.Describe(new ShutdownCompleteEvent { VmName = "db", Outcome = outcome, Changed = changed, TotalMs = 5 });
        Assert.Equal(nothingToDo, text.Contains("nothing to do", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Failed", true)]
    [InlineData("TimedOut", true)]
    [InlineData("Succeeded", false)]
    public void A_hook_that_did_not_succeed_is_a_warning_with_its_log(string status, bool warned)
    {
        var warning = EventPresentation.Warning(new HookCompletedEvent
        {
            VmName = "db", HookName = "export", Stage = "PreStop", Status = status, DurationMs = 3, ExitCode = 1,
            Message = "exit code 1; output: disk full", LogPath = "/s/vms/db/hooks/PreStop.export.log",
        });
        Assert.Equal(warned, warning is not null);
        if (warned)
        {
            Assert.StartsWith("db: ", warning);
            Assert.Contains("export", warning);
            Assert.Contains("(log: /s/vms/db/hooks/PreStop.export.log)", warning);
        }
    }

    [Fact]
    public void Seconds_become_engine_options_and_are_validated_once()
    {
        var options = new ShutdownRequest { CooperativeTimeoutSeconds = 1.5, KillTimeoutSeconds = 0.25, DeadlineSeconds = 30, Force = true }.ToOptions();
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.CooperativeTimeout);
        Assert.Null(options.TermTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.KillTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Deadline);
        Assert.True(options.Force);

        Assert.Equal("CastraInvalidTimeout", Assert.Throws<CastraException>(() => new ShutdownRequest { TermTimeoutSeconds = 0 }.ToOptions()).ErrorId);
        Assert.Equal("CastraInvalidTimeout", Assert.Throws<CastraException>(() => new ShutdownRequest { DeadlineSeconds = -1 }.ToOptions()).ErrorId);
    }

    [Fact]
    public void Progress_counts_down_each_wait_and_completes_per_vm()
    {
        var progress = new ShutdownProgress();
        var t0 = new DateTimeOffset(2026, 11, 22, 6, 0, 0, TimeSpan.Zero);
        progress.Observe(new ShutdownRequestedEvent { VmName = "a", Timestamp = t0 });
        var waiting = progress.Observe(new CooperativeAttemptedEvent { VmName = "a", Method = "ACPI", TimeoutMs = 60_000, Timestamp = t0 });
        Assert.Equal(60, waiting.SecondsRemaining);
        Assert.Contains("ACPI", waiting.Stage);
        var other = progress.Observe(new ShutdownRequestedEvent { VmName = "b", Timestamp = t0 });
        Assert.NotEqual(waiting.ActivityId, other.ActivityId);

        var later = progress.Active(t0.AddSeconds(15.2)).Single(s => s.VmName == "a");
        Assert.Equal(45, later.SecondsRemaining);

        progress.Observe(new EscalationEvent { VmName = "a", Signal = "SIGTERM", WaitMs = 10_000, Timestamp = t0.AddSeconds(60) });
        Assert.Equal(10, progress.Active(t0.AddSeconds(60)).Single(s => s.VmName == "a").SecondsRemaining);

        var done = progress.Observe(new ShutdownCompleteEvent { VmName = "a", Outcome = "Forced", Timestamp = t0.AddSeconds(61) });
        Assert.True(done.Completed);
        Assert.DoesNotContain(progress.Active(t0.AddSeconds(61)), s => s.VmName == "a");
    }

    [Fact]
    public void Verbose_lines_and_warnings_follow_the_documented_form()
    {
        Assert.Equal("[SHD] web: sent ACPI power button, waiting up to 60s",
            EventPresentation.VerboseLine(new CooperativeAttemptedEvent { VmName = "web", Method = "ACPI", TimeoutMs = 60_000 }));
        var warning = EventPresentation.Warning(new CooperativeTimedOutEvent { VmName = "web", Reason = "ChannelUnavailable", Detail = "no QMP socket", Hint = "start QEMU with -qmp" });
        Assert.Equal("web: ChannelUnavailable: no QMP socket. Hint: start QEMU with -qmp", warning);
        Assert.Contains("forced", EventPresentation.Warning(new ShutdownCompleteEvent { VmName = "web", Outcome = "Forced" }));
        Assert.Null(EventPresentation.Warning(new ShutdownCompleteEvent { VmName = "web", Outcome = "Graceful" }));
        Assert.Null(EventPresentation.Warning(new CooperativeTimedOutEvent { VmName = "web", Reason = "TimeoutExpired" }));
    }
}

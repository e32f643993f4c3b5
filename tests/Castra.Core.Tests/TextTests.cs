using Castra.Events;
using Castra.Processes;

namespace Castra.Tests;

/// <summary>Text the engine produces for every face: command lines shown to people, event descriptions.</summary>
public sealed class TextTests
{
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
}

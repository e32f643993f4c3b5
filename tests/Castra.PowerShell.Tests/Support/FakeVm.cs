using System.Diagnostics;
using System.Globalization;

namespace Castra.PowerShell.Tests.Support;

/// <summary>A daemonized fake QEMU serving one VM directory, and what it recorded (QMP commands, signals, exit).</summary>
public sealed class FakeVm
{
    private FakeVm(string directory, int pid)
    {
        Directory = directory;
        Pid = pid;
    }

    public string Directory { get; }

    public int Pid { get; }

    private string RecordFile => Path.Combine(Directory, "record.log");

    /// <summary>Started the way `castra up` wires QEMU: pidfile and QMP socket in the VM's directory.</summary>
    /// <param name="exitDelayMs">In graceful mode, how long after the power button it exits (the fake's default is 50 ms).</param>
    public static FakeVm Launch(string directory, string name, string behavior, int? exitDelayMs = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var pidFile = Path.Combine(directory, "qemu.pid");
        string[] args =
        [
            "-name", name, "-daemonize", "-pidfile", pidFile, "-display", "none",
            "-qmp", $"unix:{Path.Combine(directory, "qmp.sock")},server=on,wait=off",
            "--fake-behavior", behavior, "--fake-record", Path.Combine(directory, "record.log"),
            .. exitDelayMs is { } delay ? ["--fake-exit-delay-ms", delay.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
        ];
        using var launcher = Process.Start(new ProcessStartInfo(FakeQemu.Path, args) { RedirectStandardError = true })!;
        var stderr = launcher.StandardError.ReadToEnd();
        launcher.WaitForExit();
        if (launcher.ExitCode != 0)
        {
            throw new InvalidOperationException($"the fake QEMU for {name} did not start ({launcher.ExitCode}): {stderr}");
        }

        // With -daemonize the launcher returns once the pidfile is written and the socket listens.
        return new FakeVm(directory, int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
    }

    /// <summary>The "what" of each record line, in order: start, qmp-connect, cmd:system_powerdown, signal:TERM, exit…</summary>
    public IReadOnlyList<string> Records => File.Exists(RecordFile) ? [.. File.ReadAllLines(RecordFile).Select(l => l.Split(' ')[0])] : [];

    /// <summary>The process exists and is not a zombie.</summary>
    public bool IsAlive
    {
        get
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{Pid}/stat");
            }
            catch (IOException)
            {
                return false;
            }

            // The state follows "pid (comm) "; comm may contain ')', so look from the last one.
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X' or 'x');
        }
    }

    public void Kill()
    {
        if (!IsAlive)
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(Pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // Gone in the meantime.
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Castra.Processes;
using Castra.State;

namespace Castra.Tests.Support;

/// <summary>A daemonized fake QEMU serving a VM directory, and what it recorded (commands, signals, exit).</summary>
public sealed class FakeVm
{
    private FakeVm(VmPaths paths, int pid)
    {
        Paths = paths;
        Pid = pid;
    }

    public VmPaths Paths { get; }

    public int Pid { get; }

    public string RecordFile => System.IO.Path.Combine(Paths.Directory, "fake-record.log");

    public static FakeVm Launch(VmPaths paths, string behavior, int exitDelayMs, bool qmp, IEnumerable<string>? extraArgs)
    {
        Directory.CreateDirectory(paths.Directory);
        var args = new List<string> { "-name", paths.Name, "-daemonize", "-pidfile", paths.PidFile, "-display", "none" };
        if (qmp)
        {
            args.AddRange(["-qmp", $"unix:{paths.QmpSocket},server=on,wait=off"]);
        }

        args.AddRange(["--fake-behavior", behavior, "--fake-exit-delay-ms", exitDelayMs.ToString(CultureInfo.InvariantCulture),
            "--fake-record", System.IO.Path.Combine(paths.Directory, "fake-record.log")]);
        args.AddRange(extraArgs ?? []);

        using var launcher = Process.Start(new ProcessStartInfo(FakeQemuBinary.Path, args) { RedirectStandardError = true })!;
        var stderr = launcher.StandardError.ReadToEnd();
        launcher.WaitForExit();
        if (launcher.ExitCode != 0)
        {
            throw new InvalidOperationException($"fake-qemu failed to start ({launcher.ExitCode}): {stderr}");
        }

        var pid = int.Parse(File.ReadAllText(paths.PidFile).Trim(), CultureInfo.InvariantCulture);
        return new FakeVm(paths, pid);
    }

    /// <summary>Alive and not a zombie.</summary>
    public bool IsAlive => ProcStat.TryRead(Pid) is { IsDead: false };

    /// <summary>The "what" column of the record file, in order.</summary>
    public IReadOnlyList<string> Records =>
        File.Exists(RecordFile)
            ? File.ReadAllLines(RecordFile).Select(l => l.Split(' ')[0]).ToList()
            : [];

    public int Count(string what) => Records.Count(r => r == what);

    public void Kill()
    {
        if (IsAlive)
        {
            try
            {
                Process.GetProcessById(Pid).Kill();
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    public async Task WaitUntilGoneAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsAlive && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Castra.Native;
using Castra.Processes;

namespace Castra.Bench.Guest;

/// <summary>
/// A guest started as users start one: `castra up NAME --kernel … --initrd …` (the native CLI) in a throwaway state
/// root, with one extra QMP monitor for the <see cref="PowerOffWatch"/> (passed after `--`, as any QEMU argument).
/// `castra up` runs under the benchmark's reaper, so the daemonized QEMU is re-parented to it and reaped at once, as
/// systemd does on a normal host (this machine's PID 1 never reaps: a zombie QEMU would fool the shell loop's
/// `kill -0`, see Fleet).
/// </summary>
internal sealed class CastraUpGuest : GuestTarget
{
    private Process? _reaper;
    private ulong _startTime;

    public required string StateRoot { get; init; }

    public static async Task<CastraUpGuest> BootAsync(GuestEnvironment environment, CancellationToken cancellationToken)
    {
        var root = Path.Combine(environment.WorkDirectory, "root-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, "vms"));
        const string name = "tiny";
        var vmDirectory = Path.Combine(root, "vms", name);
        var observer = Path.Combine(root, "observer-" + name + ".sock");

        var reaper = Process.Start(new ProcessStartInfo(environment.Tools.Reaper)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not start the reaper");
        try
        {
            // castra up prints a line; the reaper's stdout is its answer channel, so castra's output goes to a file.
            string[] launch =
            [
                "/bin/sh", "-c", "log=$1; shift; exec \"$@\" >\"$log\" 2>&1", "sh", Path.Combine(root, "up.log"),
                environment.Build.NativeCli, "up", name, "--home", root,
                "--kernel", Path.Combine(environment.Build.GuestDirectory, "vmlinux"),
                "--initrd", Path.Combine(environment.Build.GuestDirectory, "initramfs.cpio"),
                "--append", "console=ttyS0 quiet castra.mode=acpi", "--memory", "128", "--accel", "tcg",
                "--", "-qmp", $"unix:{observer},server=on,wait=off",
            ];
            await reaper.StandardInput.WriteAsync(string.Join('\t', launch) + "\n");
            await reaper.StandardInput.FlushAsync(cancellationToken);
            reaper.StandardInput.Close();
            var answer = await reaper.StandardOutput.ReadLineAsync(cancellationToken);
            if (answer != "ok")
            {
                var log = File.Exists(Path.Combine(root, "up.log")) ? File.ReadAllText(Path.Combine(root, "up.log")) : "";
                throw new InvalidOperationException($"castra up failed ({answer ?? "reaper exited"}): {log.Trim()}");
            }

            var serial = Path.Combine(vmDirectory, "serial.log");
            await WaitReadyAsync(serial, TimeSpan.FromSeconds(90), cancellationToken);
            var pid = int.Parse(File.ReadAllText(Path.Combine(vmDirectory, "qemu.pid")).Trim(), CultureInfo.InvariantCulture);
            var watch = await PowerOffWatch.StartAsync(pid, observer, cancellationToken);
            return new CastraUpGuest
            {
                Name = name,
                StateRoot = root,
                QemuPid = pid,
                SerialLog = serial,
                Watch = watch,
                _reaper = reaper,
                _startTime = ProcStat.TryRead(pid)?.StartTime ?? 0,
            };
        }
        catch
        {
            KillQemuOf(vmDirectory);
            reaper.Kill();
            reaper.Dispose();
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    public override void Dispose()
    {
        Watch.Dispose();
        if (ProcStat.TryRead(QemuPid) is { IsDead: false } stat && stat.StartTime == _startTime)
        {
            Libc.kill(QemuPid, Libc.SIGKILL);
        }

        if (_reaper is not null)
        {
            if (!_reaper.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _reaper.Kill();
            }

            _reaper.Dispose();
        }

        try
        {
            Directory.Delete(StateRoot, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"castra-bench: could not remove {StateRoot}: {ex.Message}");
        }
    }

    private static void KillQemuOf(string vmDirectory)
    {
        var pidFile = Path.Combine(vmDirectory, "qemu.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            Libc.kill(pid, Libc.SIGKILL);
        }
    }
}

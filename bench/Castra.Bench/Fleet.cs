using System.Diagnostics;
using System.Globalization;
using Castra.Native;
using Castra.Processes;
using Castra.State;

namespace Castra.Bench;

/// <summary>
/// A throwaway state root with N fake VMs running in it. Each fake is a real daemonized process (its own PID, a
/// pidfile holding a write lock, a QMP socket, a vm.json recording its start time and boot id exactly as castra up
/// does), launched and reaped by one small C reaper. Launch time is never part of a measurement. Dispose kills what
/// is left and deletes the root; Ctrl+C and crashes go through <see cref="KillAllLive"/>.
/// </summary>
internal sealed class Fleet : IDisposable
{
    private static readonly HashSet<Fleet> Live = [];

    private readonly Process _reaper;
    private bool _disposed;

    private Fleet(string path, Process reaper, IReadOnlyList<FleetVm> vms)
    {
        Path = path;
        Root = new StateRoot(path);
        _reaper = reaper;
        Vms = vms;
    }

    public string Path { get; }

    public StateRoot Root { get; }

    public IReadOnlyList<FleetVm> Vms { get; }

    public static Fleet Launch(NativeTools tools, IReadOnlyList<FakeBehavior> behaviors, int exitDelayMs, string parentDirectory)
    {
        var path = System.IO.Path.Combine(parentDirectory, "castra-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var root = new StateRoot(path);
        Directory.CreateDirectory(root.VmsDirectory);
        var vms = behaviors.Select((b, i) => new FleetVm(root.Vm("vm-" + (i + 1).ToString("D4", CultureInfo.InvariantCulture)), b)).ToList();

        var reaper = Process.Start(new ProcessStartInfo(tools.Reaper)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not start the fleet reaper");
        var fleet = new Fleet(path, reaper, vms);
        lock (Live)
        {
            Live.Add(fleet);
        }

        try
        {
            fleet.Start(tools, exitDelayMs);
            return fleet;
        }
        catch
        {
            fleet.Dispose();
            throw;
        }
    }

    private void Start(NativeTools tools, int exitDelayMs)
    {
        var delay = exitDelayMs.ToString(CultureInfo.InvariantCulture);
        var writer = Task.Run(() =>
        {
            foreach (var vm in Vms)
            {
                Directory.CreateDirectory(vm.Paths.Directory);
                string[] args =
                [
                    tools.FakeQemu, "-name", vm.Name, "-daemonize", "-pidfile", vm.Paths.PidFile,
                    "-qmp", $"unix:{vm.Paths.QmpSocket},server=on,wait=off", "-display", "none",
                    "--fake-behavior", vm.Behavior.FlagValue(), "--fake-exit-delay-ms", delay, "--fake-record", vm.RecordFile,
                ];
                _reaper.StandardInput.Write(string.Join('\t', args) + "\n");
            }

            // End of input: the reaper now only reaps, and exits once the whole fleet is gone.
            _reaper.StandardInput.Close();
        });

        for (var i = 0; i < Vms.Count; i++)
        {
            var answer = _reaper.StandardOutput.ReadLine();
            if (answer != "ok")
            {
                throw new InvalidOperationException($"fake-qemu for {Vms[i].Name} failed to start ({answer ?? "reaper exited"})");
            }
        }

        writer.GetAwaiter().GetResult();
        foreach (var vm in Vms)
        {
            vm.Pid = int.Parse(File.ReadAllText(vm.Paths.PidFile).Trim(), CultureInfo.InvariantCulture);
            vm.StartTime = ProcStat.TryRead(vm.Pid)?.StartTime ?? throw new InvalidOperationException($"{vm.Name}: PID {vm.Pid} vanished right after launch");
            VmDefinitionStore.Write(vm.Paths, new VmDefinition { Name = vm.Name, ProcessStartTime = vm.StartTime, BootId = HostClock.BootId });
        }
    }

    /// <summary>Kills every fake still running (only the very processes launched: start times are checked).</summary>
    public int KillSurvivors()
    {
        var killed = 0;
        foreach (var vm in Vms)
        {
            if (vm.Pid > 0 && vm.IsAlive && Libc.kill(vm.Pid, Libc.SIGKILL) == 0)
            {
                killed++;
            }
        }

        return killed;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        KillSurvivors();
        if (!_reaper.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            _reaper.Kill();
        }

        _reaper.Dispose();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"castra-bench: could not remove {Path}: {ex.Message}");
        }

        lock (Live)
        {
            Live.Remove(this);
        }
    }

    /// <summary>Ctrl+C, SIGTERM or a crash: no fake may outlive the benchmark.</summary>
    public static void KillAllLive()
    {
        Fleet[] fleets;
        lock (Live)
        {
            fleets = [.. Live];
        }

        foreach (var fleet in fleets)
        {
            fleet.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Castra.Bench;
using Castra.Native;
using Castra.Processes;
using Castra.State;

namespace Castra.Tests.Support;

/// <summary>
/// A fleet of fake QEMUs under a fresh state root that can be relaunched VM by VM, for tests that interrupt shutdowns
/// and run them again. Each fake is launched by the benchmark's fleet reaper (bench/Castra.Bench/Native/fleet-reaper.c),
/// which stays open for more launches and reaps every fake, so none is left a zombie whatever PID 1 does. Every process
/// launched is remembered (PID and start time), so <see cref="LiveFakes"/> and <see cref="Dispose"/> see exactly the
/// fakes of this fleet, never a recycled PID.
/// </summary>
public sealed class CrashFleet : IDisposable
{
    private readonly Process _reaper;
    private readonly string _fakeQemu;
    private readonly Dictionary<string, Launched> _current = new(StringComparer.Ordinal);
    private readonly List<Launched> _all = [];
    private bool _disposed;

    private CrashFleet(string path, IReadOnlyList<Spec> specs, Process reaper, string fakeQemu)
    {
        Path = path;
        Root = new StateRoot(path);
        Specs = specs;
        _reaper = reaper;
        _fakeQemu = fakeQemu;
    }

    public string Path { get; }

    public StateRoot Root { get; }

    public IReadOnlyList<Spec> Specs { get; }

    /// <summary>How many fakes were launched in all.</summary>
    public int LaunchCount => _all.Count;

    public static CrashFleet Create(IReadOnlyList<Spec> specs)
    {
        var tools = NativeTools.Prepare(FakeQemuBinary.Path);
        var reaper = Process.Start(new ProcessStartInfo(tools.Reaper)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not start the fleet reaper");
        var path = System.IO.Path.Combine("/tmp", "castra-k-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(System.IO.Path.Combine(path, "vms"));
        return new CrashFleet(path, specs, reaper, tools.FakeQemu);
    }

    public VmPaths Vm(string name) => Root.Vm(name);

    /// <summary>
    /// Launches a fake for every VM whose last fake is gone (or that never had one), and writes its vm.json (timeouts,
    /// and the start time and boot id exactly as castra up records them). Returns how many were launched.
    /// </summary>
    public int LaunchStopped()
    {
        var toLaunch = Specs.Where(s => !_current.TryGetValue(s.Name, out var fake) || !fake.IsAlive).ToList();
        foreach (var spec in toLaunch)
        {
            var paths = Root.Vm(spec.Name);
            Directory.CreateDirectory(paths.Directory);
            string[] args =
            [
                _fakeQemu, "-name", spec.Name, "-daemonize", "-pidfile", paths.PidFile,
                "-qmp", $"unix:{paths.QmpSocket},server=on,wait=off", "-display", "none",
                "--fake-behavior", spec.Behavior, "--fake-exit-delay-ms", spec.ExitDelayMs.ToString(CultureInfo.InvariantCulture),
            ];
            _reaper.StandardInput.Write(string.Join('\t', args) + "\n");
            _reaper.StandardInput.Flush();
            var answer = ReadAnswer(spec.Name);
            if (answer != "ok")
            {
                throw new InvalidOperationException($"fake-qemu for {spec.Name} failed to start ({answer ?? "the reaper exited"})");
            }

            var pid = int.Parse(File.ReadAllText(paths.PidFile).Trim(), CultureInfo.InvariantCulture);
            var startTime = ProcStat.TryRead(pid)?.StartTime ?? throw new InvalidOperationException($"{spec.Name}: PID {pid} vanished right after launch");
            var launched = new Launched(spec.Name, pid, startTime);
            _current[spec.Name] = launched;
            _all.Add(launched);
            VmDefinitionStore.Write(paths, new VmDefinition
            {
                Name = spec.Name,
                CooperativeTimeoutSeconds = spec.CooperativeTimeoutSeconds,
                TermTimeoutSeconds = spec.TermTimeoutSeconds,
                KillTimeoutSeconds = spec.KillTimeoutSeconds,
                ProcessStartTime = startTime,
                BootId = HostClock.BootId,
            });
        }

        return toLaunch.Count;
    }

    /// <summary>Every fake ever launched by this fleet that is still running (not a zombie, same start time).</summary>
    public IReadOnlyList<Launched> LiveFakes() => _all.Where(f => f.IsAlive).ToList();

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var fake in _all.Where(f => f.IsAlive))
        {
            _ = Libc.kill(fake.Pid, Libc.SIGKILL);
        }

        try
        {
            // End of input: the reaper reaps what is left and exits once every fake is gone.
            _reaper.StandardInput.Close();
        }
        catch (IOException)
        {
        }

        if (!_reaper.WaitForExit(TimeSpan.FromSeconds(10)))
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
        }
    }

    /// <summary>The reaper's answer to one launch, within 30 s (a fake that hangs while daemonizing fails the test, never hangs it).</summary>
    private string? ReadAnswer(string name)
    {
        var read = _reaper.StandardOutput.ReadLineAsync();
        if (!read.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"fake-qemu for {name} did not finish daemonizing within 30 s");
        }

        return read.Result;
    }

    /// <summary>One VM of the fleet: how its fake behaves (fake-qemu's --fake-behavior) and its vm.json timeouts.</summary>
    public sealed record Spec(string Name, string Behavior, int ExitDelayMs, double? CooperativeTimeoutSeconds = null, double? TermTimeoutSeconds = null, double? KillTimeoutSeconds = null);

    /// <summary>One launched fake process.</summary>
    public sealed record Launched(string Name, int Pid, ulong StartTime)
    {
        /// <summary>This very process (same start time) exists and is not a zombie.</summary>
        public bool IsAlive => ProcStat.TryRead(Pid) is { IsDead: false } stat && stat.StartTime == StartTime;
    }
}

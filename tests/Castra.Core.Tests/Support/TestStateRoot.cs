using Castra.State;

namespace Castra.Tests.Support;

/// <summary>A throwaway state root, short enough for socket paths; kills what tests launched into it.</summary>
public sealed class TestStateRoot : IDisposable
{
    private readonly List<FakeVm> _vms = [];
    private readonly List<System.Diagnostics.Process> _others = [];

    public TestStateRoot()
    {
        Path = System.IO.Path.Combine("/tmp", "castra-t-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "vms"));
        Root = new StateRoot(Path);
    }

    public string Path { get; }

    public StateRoot Root { get; }

    public VmPaths Vm(string name) => Root.Vm(name);

    public FakeVm Launch(string name, string behavior = "graceful", int exitDelayMs = 50, bool qmp = true, IEnumerable<string>? extraArgs = null)
    {
        var vm = FakeVm.Launch(Root.Vm(name), behavior, exitDelayMs, qmp, extraArgs);
        lock (_vms)
        {
            _vms.Add(vm);
        }

        return vm;
    }

    /// <summary>A process of the test's own that must survive (or be killed) as the test says.</summary>
    /// <summary>Killed (with its tree) when the root is disposed; the root owns it, so do not dispose it yourself.</summary>
    public System.Diagnostics.Process Track(System.Diagnostics.Process process)
    {
        lock (_others)
        {
            _others.Add(process);
        }

        return process;
    }

    public void Dispose()
    {
        // Sessions a test started and did not end (only a shutdown of their VM drains them) must not outlive it.
        try
        {
            foreach (var session in Root.ListVmNames().SelectMany(name => Castra.Sessions.SessionStore.ReadAll(Root.Vm(name))))
            {
                Castra.Sessions.SessionProcess.SignalGroup(session, 9);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Castra.Errors.CastraException)
        {
            // A test that left the root refused (another owner, group-writable) has no sessions to end.
        }

        foreach (var vm in _vms)
        {
            vm.Kill();
        }

        foreach (var process in _others)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A state root with a long path (over the 107-byte socket path limit), removed when disposed.</summary>
    public sealed class Deep : IDisposable
    {
        private readonly string _top;

        public Deep(int length)
        {
            _top = System.IO.Path.Combine("/tmp", "castra-deep-" + Guid.NewGuid().ToString("N")[..8]);
            var path = _top;
            while (path.Length < length)
            {
                path = System.IO.Path.Combine(path, new string('d', Math.Min(60, length - path.Length)));
            }

            Directory.CreateDirectory(System.IO.Path.Combine(path, "vms"));
            Root = new StateRoot(path);
        }

        public StateRoot Root { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(_top, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

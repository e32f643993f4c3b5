namespace Castra.PowerShell.Tests.Support;

/// <summary>
/// A throwaway state root under /tmp (short: a unix socket path has at most 107 bytes) with fake QEMU VMs in it;
/// disposing kills every fake it launched and deletes the root.
/// </summary>
public sealed class FakeStateRoot : IDisposable
{
    private readonly List<FakeVm> _vms = [];

    public FakeStateRoot()
    {
        Path = "/tmp/cps-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "vms"));
    }

    public string Path { get; }

    /// <summary>A running fake VM; behaviors as in tests/fixtures/fake-qemu/README.md (graceful, ignore-acpi, ignore-term…).</summary>
    public FakeVm Launch(string name, string behavior = "graceful", int? exitDelayMs = null)
    {
        var vm = FakeVm.Launch(VmDirectory(name), name, behavior, exitDelayMs);
        lock (_vms)
        {
            _vms.Add(vm);
        }

        return vm;
    }

    /// <summary>A VM that exists (its directory does) but is not running.</summary>
    public void Define(string name) => Directory.CreateDirectory(VmDirectory(name));

    public string VmDirectory(string name) => System.IO.Path.Combine(Path, "vms", name);

    public void Dispose()
    {
        lock (_vms)
        {
            foreach (var vm in _vms)
            {
                vm.Kill();
            }
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process still writing into it; /tmp is cleaned anyway.
        }
    }
}

using System.Diagnostics;
using Castra.Launch;
using Castra.State;

namespace Castra.Tests.Support;

/// <summary>
/// The tiny real guest (tests/fixtures/guest/build.sh): built once per test run, booted under QEMU/TCG.
/// Never skipped: if QEMU or the guest packages are missing the tests fail and say what to install.
/// </summary>
public static class RealGuest
{
    private static readonly Lazy<string> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Kernel => Path.Combine(Built.Value, "vmlinux");

    public static string Initrd => Path.Combine(Built.Value, "initramfs.cpio");

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Castra.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Castra.sln) above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Options that boot the guest in a mode: acpi, noacpi or agent.</summary>
    public static LaunchOptions Options(string mode, bool agentChannel = false, int? shutdownOrder = null) => new()
    {
        ShutdownOrder = shutdownOrder,
        Kernel = Kernel,
        Initrd = Initrd,
        Append = $"console=ttyS0 quiet castra.mode={mode}",
        MemoryMB = 128,
        Accelerator = "tcg",
        GuestAgent = agentChannel,
    };

    public static async Task<VmInfo> StartAsync(StateRoot root, string name, string mode, bool agentChannel = false, bool waitReady = true)
    {
        var info = await new VmLauncher(root).StartAsync(name, Options(mode, agentChannel));
        if (waitReady)
        {
            await WaitForSerialAsync(root.Vm(name), "CASTRA-READY", TimeSpan.FromSeconds(90));
        }

        return info;
    }

    public static string SerialLog(VmPaths vm)
    {
        var path = Path.Combine(vm.Directory, "serial.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public static async Task WaitForSerialAsync(VmPaths vm, string marker, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!SerialLog(vm).Contains(marker, StringComparison.Ordinal))
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{vm.Name}: '{marker}' did not appear on the serial console within {timeout.TotalSeconds} s. Log:\n{SerialLog(vm)}");
            }

            await Task.Delay(50);
        }
    }

    private static string Build()
    {
        var script = Path.Combine(RepositoryRoot, "tests", "fixtures", "guest", "build.sh");
        var output = Path.Combine(RepositoryRoot, "tests", "fixtures", "guest", "out");
        var psi = new ProcessStartInfo("bash", [script, output]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var build = Process.Start(psi)!;
        var stderr = build.StandardError.ReadToEnd();
        build.WaitForExit();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"building the test guest failed (run ./build.sh setup to install qemu-system-x86, linux-image-amd64, busybox-static, qemu-guest-agent): {stderr}");
        }

        return output;
    }
}

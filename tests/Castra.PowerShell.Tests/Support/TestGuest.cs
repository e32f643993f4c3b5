using System.Diagnostics;

namespace Castra.PowerShell.Tests.Support;

/// <summary>
/// The tiny real guest of tests/fixtures/guest/build.sh (built once; the script is a no-op when it is current).
/// Never skipped: without QEMU or the guest's packages the test fails and says what to install.
/// </summary>
public static class TestGuest
{
    private static readonly Lazy<string> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Kernel => Path.Combine(Built.Value, "vmlinux");

    public static string Initrd => Path.Combine(Built.Value, "initramfs.cpio");

    /// <summary>Waits until the guest printed the marker on its serial console (serial.log in the VM's directory).</summary>
    public static void WaitForSerial(string vmDirectory, string marker)
    {
        var log = Path.Combine(vmDirectory, "serial.log");
        Poll.Until(() => File.Exists(log) && File.ReadAllText(log).Contains(marker, StringComparison.Ordinal), $"'{marker}' in {log}", timeoutSeconds: 120);
    }

    private static string Build()
    {
        var output = BuiltModule.Repo("tests/fixtures/guest/out");
        var psi = new ProcessStartInfo("bash", [BuiltModule.Repo("tests/fixtures/guest/build.sh"), output]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var build = Process.Start(psi)!;
        var stderr = build.StandardError.ReadToEnd();
        build.WaitForExit();
        return build.ExitCode == 0
            ? output
            : throw new InvalidOperationException($"building the test guest failed (./build.sh setup installs qemu-system-x86, linux-image-amd64, busybox-static, qemu-guest-agent): {stderr}");
    }
}

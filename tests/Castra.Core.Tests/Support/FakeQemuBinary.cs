using System.Diagnostics;

namespace Castra.Tests.Support;

/// <summary>
/// Compiles tests/fixtures/fake-qemu/fake-qemu.c once per test run (CI installs a C compiler), as
/// <c>/tmp/castra-fake-qemu-&lt;pid&gt;-&lt;random&gt;/qemu-system-fake</c>: Castra signals only processes that execute a QEMU
/// (qemu-system-* or qemu-kvm), and the fake stands for one.
/// </summary>
public static class FakeQemuBinary
{
    private static readonly Lazy<string> Compiled = new(Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Compiled.Value;

    private static string Compile()
    {
        var source = System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "fake-qemu.c");
        // Unique, not just per PID: a leftover of an earlier run whose PID was the same (even a file of that name) is never in the way.
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"castra-fake-qemu-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(directory);
        var output = System.IO.Path.Combine(directory, "qemu-system-fake");
        var psi = new ProcessStartInfo("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", output, source])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var cc = Process.Start(psi) ?? throw new InvalidOperationException("could not start cc");
        var errors = cc.StandardError.ReadToEnd();
        cc.WaitForExit();
        if (cc.ExitCode != 0)
        {
            throw new InvalidOperationException($"compiling {source} failed: {errors}");
        }

        return output;
    }
}

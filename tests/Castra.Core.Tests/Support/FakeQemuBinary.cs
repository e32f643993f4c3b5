using System.Diagnostics;

namespace Castra.Tests.Support;

/// <summary>Compiles tests/fixtures/fake-qemu/fake-qemu.c once per test run (CI installs a C compiler).</summary>
public static class FakeQemuBinary
{
    private static readonly Lazy<string> Compiled = new(Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Compiled.Value;

    private static string Compile()
    {
        var source = System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "fake-qemu.c");
        var output = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"castra-fake-qemu-{Environment.ProcessId}");
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

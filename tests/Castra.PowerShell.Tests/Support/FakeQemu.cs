using System.Diagnostics;

namespace Castra.PowerShell.Tests.Support;

/// <summary>
/// tests/fixtures/fake-qemu/fake-qemu.c compiled once per test run, named like a QEMU system emulator
/// (qemu-system-fake) because Castra only ever signals a process that looks like QEMU.
/// </summary>
public static class FakeQemu
{
    private static readonly Lazy<string> Compiled = new(Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Compiled.Value;

    private static string Compile()
    {
        var source = BuiltModule.Repo("tests/fixtures/fake-qemu/fake-qemu.c");
        var directory = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"castra-pst-{Environment.ProcessId}")).FullName;
        var output = System.IO.Path.Combine(directory, "qemu-system-fake");
        var psi = new ProcessStartInfo("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", output, source])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var cc = Process.Start(psi) ?? throw new InvalidOperationException("could not start cc (./build.sh setup installs gcc)");
        var errors = cc.StandardError.ReadToEnd();
        cc.WaitForExit();
        return cc.ExitCode == 0 ? output : throw new InvalidOperationException($"compiling {source} failed: {errors}");
    }
}

using System.Diagnostics;

namespace Castra.Tests.Support;

/// <summary>
/// Compiles tests/fixtures/identity/id-helper.c once per test run, as <c>/tmp/castra-id-helper-&lt;pid&gt;/qemu-system-idhelper</c>
/// (a QEMU name: the process it leaves holding a socket must count as a QEMU executable).
/// </summary>
public static class IdentityHelperBinary
{
    private static readonly Lazy<string> Compiled = new(Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Compiled.Value;

    private static string Compile()
    {
        var source = System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "id-helper.c");
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"castra-id-helper-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var output = System.IO.Path.Combine(directory, "qemu-system-idhelper");
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

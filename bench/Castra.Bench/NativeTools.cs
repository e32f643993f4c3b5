using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Castra.Bench;

/// <summary>
/// The two C helpers the fleet needs (the fake QEMU and the fleet's reaper), compiled with cc from the sources
/// shipped next to the bench, once per source version: a small process per VM, never a .NET process per VM.
/// </summary>
internal sealed class NativeTools
{
    private NativeTools(string fakeQemu, string reaper, string shellLoop)
    {
        FakeQemu = fakeQemu;
        Reaper = reaper;
        ShellLoop = shellLoop;
    }

    public string FakeQemu { get; }

    public string Reaper { get; }

    /// <summary>Baseline (a): the hand-written sequential shutdown loop.</summary>
    public string ShellLoop { get; }

    public static NativeTools Prepare(string? fakeQemuOverride = null)
    {
        var sources = Path.Combine(AppContext.BaseDirectory, "native");
        var cache = Path.Combine(Path.GetTempPath(), "castra-bench-tools");
        Directory.CreateDirectory(cache);
        // Castra signals only a QEMU executable (qemu-system-* or qemu-kvm), so the fake is built under such a name.
        var fake = fakeQemuOverride ?? Compile(Path.Combine(sources, "fake-qemu.c"), cache, "fake-qemu", "qemu-system-fake");
        var reaper = Compile(Path.Combine(sources, "fleet-reaper.c"), cache, "fleet-reaper");
        return new NativeTools(fake, reaper, Path.Combine(sources, "shell-loop.sh"));
    }

    /// <param name="fileName">When given, the binary is <c>&lt;name&gt;-&lt;hash&gt;/&lt;fileName&gt;</c> (a program whose name matters).</param>
    private static string Compile(string source, string cache, string name, string? fileName = null)
    {
        // Named by content hash: concurrent or repeated runs reuse the binary, an edited source gets a new one.
        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(source)), 0, 8).ToLowerInvariant();
        var output = fileName is null ? Path.Combine(cache, $"{name}-{hash}") : Path.Combine(cache, $"{name}-{hash}", fileName);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        if (File.Exists(output))
        {
            return output;
        }

        var temp = $"{output}.{Environment.ProcessId}.tmp";
        var psi = new ProcessStartInfo("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", temp, source])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var cc = Process.Start(psi) ?? throw new InvalidOperationException("could not start cc (install gcc: ./build.sh setup)");
        var errors = new StringBuilder(cc.StandardError.ReadToEnd());
        cc.WaitForExit();
        if (cc.ExitCode != 0)
        {
            throw new InvalidOperationException($"compiling {source} failed: {errors}");
        }

        File.Move(temp, output, overwrite: true);
        return output;
    }
}

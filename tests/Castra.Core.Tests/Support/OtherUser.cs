using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Castra.Tests.Support;

/// <summary>
/// A second, unprivileged user for the trust-model tests ("castra-other", created once with useradd when the tests
/// run as root, as in CI): the owner of a VM directory or of a file that Castra must not believe.
/// </summary>
public static partial class OtherUser
{
    public const string Name = "castra-other";

    private static readonly Lazy<uint> LazyUid = new(Ensure, LazyThreadSafetyMode.ExecutionAndPublication);

    public static uint Uid => LazyUid.Value;

    /// <summary>chown without following a final link (lchown), as the other user would own what they created.</summary>
    public static void Own(string path)
    {
        if (lchown(path, Uid, Uid) != 0)
        {
            throw new IOException($"lchown {path}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Runs a shell command as the other user (runuser), returning its exit code.</summary>
    public static int Run(string script)
    {
        _ = Uid;
        using var process = Process.Start(new ProcessStartInfo("runuser", ["-u", Name, "--", "/bin/sh", "-c", script]) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static uint Ensure()
    {
        if (Id() is { } uid)
        {
            return uid;
        }

        using var add = Process.Start(new ProcessStartInfo("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Name]) { RedirectStandardError = true })!;
        add.WaitForExit();
        return Id() ?? throw new InvalidOperationException($"could not create the test user {Name} (useradd exit {add.ExitCode}): the trust-model tests run as root");
    }

    private static uint? Id()
    {
        using var id = Process.Start(new ProcessStartInfo("id", ["-u", Name]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var text = id.StandardOutput.ReadToEnd().Trim();
        id.WaitForExit();
        return id.ExitCode == 0 ? uint.Parse(text, CultureInfo.InvariantCulture) : null;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown(string path, uint owner, uint group);
}

using System.Diagnostics;
using Castra.State;

namespace Castra.Tests.Support;

/// <summary>A state root on its own tiny tmpfs (the tests run as root, as in CI), to fill the disk on purpose.</summary>
public sealed class TinyStateRoot : IDisposable
{
    private TinyStateRoot(string path)
    {
        Path = path;
        Root = new StateRoot(path);
    }

    public string Path { get; }

    public StateRoot Root { get; }

    public static TinyStateRoot Mount(int sizeKiB)
    {
        var path = System.IO.Path.Combine("/tmp", "castra-tiny-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={sizeKiB}k,mode=0755", "tmpfs", path);
        Directory.CreateDirectory(System.IO.Path.Combine(path, "vms"));
        return new TinyStateRoot(path);
    }

    /// <summary>Fills the file system until not one more byte fits.</summary>
    public void Fill()
    {
        using var filler = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                filler.Write(chunk);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }

        try
        {
            while (true)
            {
                filler.Write(chunk, 0, 1);
                filler.Flush();
            }
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            Run("umount", "-l", Path);
            Directory.Delete(Path);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {error}");
        }
    }
}

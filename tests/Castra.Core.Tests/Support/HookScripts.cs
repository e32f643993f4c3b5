using Castra.Hooks;
using Castra.State;

namespace Castra.Tests.Support;

/// <summary>Small shell scripts that hooks and sessions run in tests, written into the test's state root.</summary>
public static class HookScripts
{
    public static string Write(TestStateRoot root, string name, string body)
    {
        var dir = Path.Combine(root.Path, "scripts");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    /// <summary>Registers a script hook; the script may use $OUT (the test root's "out" directory) to leave evidence.</summary>
    public static CleanupHook Register(TestStateRoot root, string name, string body, HookStage stage = HookStage.PreStop, int priority = 100, double timeoutSeconds = 30, string vm = "*")
    {
        var script = Write(root, name + ".sh", $"OUT='{Out(root)}'\n{body}");
        return new HookStore(root.Root).Register(new HookRegistration
        {
            Name = name,
            VmName = vm,
            Stage = stage,
            Priority = priority,
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            Executable = script,
            WorkingDirectory = root.Path,
        });
    }

    public static string Out(TestStateRoot root)
    {
        var dir = Path.Combine(root.Path, "out");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Nanoseconds since the epoch, as the hook's own `date +%s%N` recorded it.</summary>
    public static long Stamp(TestStateRoot root, string file) => long.Parse(File.ReadAllText(Path.Combine(Out(root), file)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public static async Task WaitForFileAsync(string path, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"{path} did not appear within {timeout}");
            }

            await Task.Delay(20);
        }
    }
}

using Castra.Native;
using Castra.State;

namespace Castra.Processes;

/// <summary>
/// Whether a process's arguments name the VM's qemu.pid or qmp.sock: QEMU is told both on its command line
/// (-pidfile, -qmp unix:…), so this ties a QEMU to its VM without any file the VM's owner could forge.
/// </summary>
internal static class CommandLineTie
{
    /// <summary>The VM path the arguments name, or null. Relative arguments are resolved against the process's cwd.</summary>
    public static string? Names(ProcessFacts facts, VmPaths vm)
    {
        if (facts.CommandLine.Count == 0)
        {
            return null;
        }

        var targets = Candidates(vm.PidFile).Concat(Candidates(vm.QmpSocket)).ToHashSet(StringComparer.Ordinal);
        string? cwd = null;
        foreach (var arg in facts.CommandLine)
        {
            // QEMU options pack paths in comma lists: unix:/p/qmp.sock,server=on / socket,id=x,path=/p/qmp.sock
            foreach (var part in arg.Split(','))
            {
                var candidate = StripPrefix(part);
                if (candidate.Length == 0)
                {
                    continue;
                }

                if (!Path.IsPathRooted(candidate))
                {
                    if (!candidate.EndsWith("qemu.pid", StringComparison.Ordinal) && !candidate.EndsWith("qmp.sock", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    cwd ??= ProcStat.TryReadCwd(facts.Pid);
                    if (cwd is null)
                    {
                        continue;
                    }

                    candidate = Path.Combine(cwd, candidate);
                }

                var full = Path.GetFullPath(candidate);
                if (targets.Contains(full) || (Libc.RealPath(full) is { } real && targets.Contains(real)))
                {
                    return full;
                }
            }
        }

        return null;
    }

    private static IEnumerable<string> Candidates(string path)
    {
        yield return path;
        if (Libc.RealPath(Path.GetDirectoryName(path)!) is { } realDir)
        {
            yield return Path.Combine(realDir, Path.GetFileName(path));
        }
    }

    private static string StripPrefix(string part)
    {
        foreach (var prefix in new[] { "unix:", "path=", "file:" })
        {
            if (part.StartsWith(prefix, StringComparison.Ordinal))
            {
                return part[prefix.Length..];
            }
        }

        return part;
    }
}

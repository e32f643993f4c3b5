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

        // The usual case, QEMU given the very paths Castra uses, needs no path resolution at all; other spellings
        // (a link in the path, ./qmp.sock from the VM's directory) are resolved only when that fails.
        var named = PathsNamed(facts).ToList();
        var direct = named.FirstOrDefault(p => p == vm.PidFile || p == vm.QmpSocket);
        if (direct is not null)
        {
            return direct;
        }

        if (named.Count == 0 || Libc.RealPath(vm.Directory) is not { } realDir)
        {
            return null;
        }

        var targets = new HashSet<string>(StringComparer.Ordinal)
        {
            vm.PidFile, vm.QmpSocket, Path.Combine(realDir, Path.GetFileName(vm.PidFile)), Path.Combine(realDir, Path.GetFileName(vm.QmpSocket)),
        };
        return named.FirstOrDefault(p => targets.Contains(p) || (Libc.RealPath(p) is { } real && targets.Contains(real)));
    }

    /// <summary>The absolute paths the arguments name that could be a pidfile or a QMP socket (the cwd read only when needed).</summary>
    private static IEnumerable<string> PathsNamed(ProcessFacts facts)
    {
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

                yield return Path.GetFullPath(candidate);
            }
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

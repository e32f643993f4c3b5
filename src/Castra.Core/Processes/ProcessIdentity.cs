using Castra.Native;
using Castra.State;

namespace Castra.Processes;

/// <summary>
/// Decides whether a PID is this VM's QEMU before Castra signals it. Any one proof suffices:
/// (1) its command line names the VM's qmp.sock or qemu.pid (relative arguments are resolved against its cwd);
/// (2) its /proc start time and the boot id equal what vm.json recorded at launch;
/// (3) the VM's qmp.sock is served by that PID (SO_PEERCRED).
/// Called after a pidfd is open, so the answer stays true for as long as the pidfd is used.
/// </summary>
internal static class ProcessIdentity
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromMilliseconds(500);

    public static async Task<IdentityResult> VerifyAsync(int pid, VmPaths vm, VmDefinition? definition, CancellationToken cancellationToken)
    {
        var stat = ProcStat.TryRead(pid);
        if (stat is null)
        {
            return new IdentityResult(IdentityVerdict.Exited, $"PID {pid} does not exist");
        }

        if (stat.IsDead)
        {
            return new IdentityResult(IdentityVerdict.Exited, $"PID {pid} has exited (state {stat.State}, not yet reaped)");
        }

        var named = CommandLineNames(pid, vm);
        if (named is not null)
        {
            return new IdentityResult(IdentityVerdict.Verified, $"command line names {named}");
        }

        if (definition?.ProcessStartTime is { } recorded && recorded == stat.StartTime
            && definition.BootId is { } boot && string.Equals(boot, HostClock.BootId, StringComparison.Ordinal))
        {
            return new IdentityResult(IdentityVerdict.Verified, "start time matches the one recorded in vm.json");
        }

        if (await SocketPeer.TryGetPidAsync(vm.QmpSocket, PeerTimeout, cancellationToken).ConfigureAwait(false) == pid)
        {
            return new IdentityResult(IdentityVerdict.Verified, $"{vm.QmpSocket} is served by PID {pid}");
        }

        return new IdentityResult(
            IdentityVerdict.NotOurs,
            $"PID {pid} ({stat.Comm}) is not this VM's QEMU: its command line names neither {vm.PidFile} nor {vm.QmpSocket}, " +
            "its start time does not match vm.json, and it does not serve the VM's QMP socket");
    }

    /// <summary>The VM path the process's arguments name, or null.</summary>
    private static string? CommandLineNames(int pid, VmPaths vm)
    {
        var args = ProcStat.TryReadCommandLine(pid);
        if (args.Count == 0)
        {
            return null;
        }

        var targets = Candidates(vm.PidFile).Concat(Candidates(vm.QmpSocket)).ToHashSet(StringComparer.Ordinal);
        string? cwd = null;
        foreach (var arg in args)
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

                    cwd ??= ProcStat.TryReadCwd(pid);
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

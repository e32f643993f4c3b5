using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// QEMU removes its pidfile and QMP socket when it exits normally, but not when killed. Once Castra has seen the
/// process gone it removes what is left, but only while the pidfile still names that process, so a QEMU someone
/// started since is never touched. Removal is unlinkat(2) in the VM's open directory: a planted link is removed
/// itself, never followed.
/// </summary>
internal static class LeftoverFiles
{
    /// <summary>True when something was removed.</summary>
    public static bool RemoveFor(VmDirectory vm, int? pid)
    {
        if (pid is { } p && PidFile.Read(vm).Pid != p)
        {
            return false;
        }

        var removed = false;
        foreach (var name in new[] { VmDirectory.PidFileName, VmDirectory.QmpSocketName, VmDirectory.AgentSocketName })
        {
            removed |= TryDelete(vm, name);
        }

        return removed;
    }

    /// <summary>
    /// castra up --ephemeral: the throwaway overlay goes once the VM is known to be stopped; only as vm.json written
    /// by root or the caller names it, and only inside the VM's own directory.
    /// </summary>
    public static void RemoveEphemeralOverlay(VmDirectory vm, VmDefinition? definition)
    {
        if (definition is { OwnerTrusted: true, EphemeralOverlay: { } overlay }
            && !overlay.Contains('\0', StringComparison.Ordinal) && Path.IsPathFullyQualified(overlay)
            && Path.GetFileName(overlay) is { Length: > 0 } name && name is not ("." or "..")
            && Path.GetDirectoryName(Path.GetFullPath(overlay)) == vm.Paths.Directory)
        {
            TryDelete(vm, name);
        }
    }

    public static void RemovePidFile(VmDirectory vm) => TryDelete(vm, VmDirectory.PidFileName);

    private static bool TryDelete(VmDirectory vm, string name)
    {
        try
        {
            return vm.Files.Delete(name);
        }
        catch (IOException)
        {
            // Best effort: a leftover file is reported as Stale by ps, never breaks a shutdown.
            return false;
        }
    }
}

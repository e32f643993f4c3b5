using System.Globalization;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// QEMU removes its pidfile and QMP socket when it exits normally, but not when killed. Once Castra has seen the
/// process gone it removes what is left, but only while the pidfile still names that process, so a QEMU someone
/// started since is never touched.
/// </summary>
internal static class LeftoverFiles
{
    /// <summary>True when something was removed.</summary>
    public static bool RemoveFor(VmPaths vm, int? pid)
    {
        if (pid is { } p && !PidFileNames(vm, p))
        {
            return false;
        }

        var removed = false;
        foreach (var path in new[] { vm.PidFile, vm.QmpSocket, vm.AgentSocket })
        {
            try
            {
                if (File.Exists(path))
                {
                    File.Delete(path);
                    removed = true;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: a leftover file is reported as Stale by ps, never breaks a shutdown.
            }
        }

        return removed;
    }

    /// <summary>castra up --ephemeral: the throwaway overlay goes once the VM is known to be stopped.</summary>
    public static void RemoveEphemeralOverlay(VmPaths vm, VmDefinition? definition)
    {
        if (definition?.EphemeralOverlay is { } overlay && Path.GetDirectoryName(Path.GetFullPath(overlay)) == vm.Directory)
        {
            try
            {
                File.Delete(overlay);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    public static bool PidFileNames(VmPaths vm, int pid)
    {
        try
        {
            return int.TryParse(File.ReadAllText(vm.PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var recorded) && recorded == pid;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static void RemovePidFile(VmPaths vm)
    {
        try
        {
            File.Delete(vm.PidFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

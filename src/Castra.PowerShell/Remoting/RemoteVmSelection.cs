using Castra.PowerShell.Selection;
using Castra.State;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// Which VMs a host's Stop-CastraVm will work on, resolved on that host by the module check of a call across hosts
/// with -AsJob (<see cref="RemoteModuleCheck"/>), so the caller's job has one child per VM before anything runs. The
/// same resolution as Stop-CastraVm's own (literal names kept as typed, patterns matched against the VMs there), so
/// the children are exactly the VMs that host's call reports on. Public only so that script can reach it; not a
/// cmdlet, not for scripts.
/// </summary>
public static class RemoteVmSelection
{
    /// <param name="stateRoot">-StateRoot as a provider path on that host; null for its default.</param>
    /// <param name="names">The names and patterns; null for -All.</param>
    /// <returns>The VM names, or none when the state root cannot be read (the host's call then reports why).</returns>
    public static string[] Resolve(string? stateRoot, string[]? names)
    {
        try
        {
            var root = StateRoot.Resolve(stateRoot);
            return [.. names is null ? root.ListVmNames() : VmNameSelector.Resolve(root, names, _ => { })];
        }
        catch (Errors.CastraException)
        {
            return [];
        }
    }
}

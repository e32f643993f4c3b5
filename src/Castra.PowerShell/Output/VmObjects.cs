using Castra.Errors;
using Castra.State;

namespace Castra.PowerShell.Output;

/// <summary>-PassThru objects: a VM as Get-CastraVm shows it, looked at again after the cmdlet changed it.</summary>
internal static class VmObjects
{
    /// <summary>Null when the VM cannot be described any more (gone, refused): the caller has reported its trouble.</summary>
    public static VmInfo? Describe(StateRoot root, string name)
    {
        try
        {
            // Bounded: a read-only look (pidfile, /proc, pidfd), never a wait on the guest.
            return VmInventory.DescribeAsync(root.Vm(name)).GetAwaiter().GetResult();
        }
        catch (CastraException)
        {
            return null;
        }
    }
}

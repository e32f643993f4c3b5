using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// A VM's place in a call that stops several VMs (vm.json's <c>ShutdownOrder</c>): VMs of the same order form a group
/// and stop concurrently; groups stop one after another, lowest order first ("order 1 stops before order 2": the web
/// tier before its database). The next group starts once every VM of the previous one has ended its run (each bounded
/// by its own ladder). This is Proxmox's rule read from the shutdown side (Proxmox shuts down in reverse start order,
/// and VMs without an order first): a VM with no recorded order is in group <see cref="Default"/>, the first.
/// </summary>
public static class ShutdownOrder
{
    public const int Min = 0;

    public const int Max = 1000;

    /// <summary>A VM without a recorded order (or whose vm.json cannot be used) stops in the first group.</summary>
    public const int Default = 0;

    public static bool IsValid(int order) => order is >= Min and <= Max;

    /// <summary>
    /// The order a (possibly absent) definition gives; the store has already refused out-of-range values. A vm.json
    /// that is not trusted (owned, or its directory owned or writable, by someone other than root or the caller) puts
    /// its VM in the last group, <see cref="Max"/>, whatever it says: its timeouts are that other user's choice (up to a
    /// day per step), and a VM of theirs must not hold back the groups of the VMs the caller trusts.
    /// </summary>
    public static int Of(VmDefinition? definition) => definition switch
    {
        null => Default,
        { OwnerTrusted: false } => Max,
        { ShutdownOrder: { } order } when IsValid(order) => order,
        _ => Default,
    };

    /// <summary>
    /// The VM's recorded order, read through the VM's open directory like every state file. Whatever cannot be read
    /// (no such VM, a bad name, a damaged or hostile vm.json) gives <see cref="Default"/>: the VM's own run reports
    /// the problem (CastraVmNotFound, or a warning and the defaults for a bad vm.json), as it does for its timeouts.
    /// Never throws: the orders are read for the whole call before any VM starts, so one VM's file must not fail it.
    /// </summary>
    internal static int Read(StateRoot root, string vmName)
    {
        try
        {
            return Of(VmDefinitionStore.TryRead(root.Vm(vmName)));
        }
#pragma warning disable CA1031 // Whatever one VM's vm.json does, the others' shutdown goes ahead; that VM's run reports it.
        catch (Exception)
#pragma warning restore CA1031
        {
            return Default;
        }
    }
}

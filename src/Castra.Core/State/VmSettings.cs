using Castra.Errors;
using Castra.Shutdown;

namespace Castra.State;

/// <summary>
/// Changes a VM's recorded settings in vm.json without touching the VM (Set-CastraVm, castra set): the next shutdown
/// reads them. Under the VM's lock, so a launch (which rewrites vm.json) or a shutdown in progress is not raced.
/// </summary>
public static class VmSettings
{
    /// <summary>Records <paramref name="order"/> as the VM's ShutdownOrder; returns the order it replaced (null: none).</summary>
    /// <exception cref="CastraException">
    /// CastraInvalidShutdownOrder, CastraInvalidVmName, CastraVmNotFound, CastraVmBusy/CastraVmShuttingDown (the lock is
    /// held), CastraVmDefinitionInvalid (a damaged vm.json is not overwritten), CastraUnsafeStateFile.
    /// </exception>
    public static int? SetShutdownOrder(StateRoot root, string vmName, int order)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!ShutdownOrder.IsValid(order))
        {
            throw new CastraException(ErrorIds.InvalidShutdownOrder, CastraErrorCategory.InvalidArgument,
                $"The shutdown order must be a whole number from {ShutdownOrder.Min} to {ShutdownOrder.Max}, not {order}.") { Target = vmName };
        }

        var vm = root.Vm(vmName);
        try
        {
            using var dir = VmDirectory.TryOpen(vm) ?? throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound,
                $"No VM named '{vm.Name}' under {root.Path} ({vm.Directory} does not exist).") { Target = vm.Name };
            if (!dir.Files.OwnerTrusted)
            {
                throw new CastraException(ErrorIds.UnsafeStateFile, CastraErrorCategory.PermissionDenied,
                    $"{FileTrust.Untrusted(dir.Files.Owner)}: Castra changes settings only in a VM directory owned by root or you.") { Target = vm.Name };
            }

            using var vmLock = VmLock.TryAcquire(dir) ?? throw VmBusy.Refusal(dir, "its shutdown order cannot be changed");
            var definition = VmDefinitionStore.TryRead(dir);
            if (definition is not null && !definition.OwnerTrusted)
            {
                // Rewriting it would make a file someone else wrote ours, and its identity proof (start time, overlay)
                // trusted: only its owner may change it.
                throw new CastraException(ErrorIds.UnsafeStateFile, CastraErrorCategory.PermissionDenied,
                    $"{vm.Definition} is not owned by root or you (or its directory is not): change it as its owner.") { Target = vm.Name };
            }

            definition ??= new VmDefinition { Name = vm.Name };
            var previous = definition.ShutdownOrder;
            definition.ShutdownOrder = order;
            VmDefinitionStore.Write(dir, definition);
            return previous;
        }
        catch (IOException ex)
        {
            throw StateFileError.For(vm, ex);
        }
    }
}

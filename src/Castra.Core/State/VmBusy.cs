using Castra.Errors;

namespace Castra.State;

/// <summary>The refusal when a VM's lock is held: a shutdown in progress (nothing respawns during it), or a start.</summary>
internal static class VmBusy
{
    /// <param name="consequence">What is refused, e.g. "it cannot be started".</param>
    public static CastraException Refusal(VmDirectory dir, string consequence)
    {
        var vm = dir.Paths;
        StatusDocument? status = null;
        try
        {
            status = StatusStore.TryRead(dir);
        }
        catch (InvalidDataException)
        {
        }

        return status?.IsInProgress() == true
            ? new CastraException(ErrorIds.VmShuttingDown, CastraErrorCategory.ResourceBusy,
                $"VM '{vm.Name}' is being shut down (phase {status.Phase}, by PID {status.OwnerPid}); {consequence} until that completes.") { Target = vm.Name }
            : new CastraException(ErrorIds.VmBusy, CastraErrorCategory.ResourceBusy,
                $"VM '{vm.Name}' is being started or stopped by another process; try again when it has finished.") { Target = vm.Name };
    }
}

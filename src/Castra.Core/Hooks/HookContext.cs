using Castra.State;

namespace Castra.Hooks;

/// <summary>What a hook is told about the shutdown it runs in (its CASTRA_* environment), and the VM's open directory.</summary>
internal sealed record HookContext(VmDirectory Directory, HookStage Stage, string Reason, string ShutdownId)
{
    public VmPaths Vm => Directory.Paths;
}

using Castra.State;

namespace Castra.Hooks;

/// <summary>What a hook is told about the shutdown it runs in (its CASTRA_* environment).</summary>
internal sealed record HookContext(VmPaths Vm, HookStage Stage, string Reason, string ShutdownId);

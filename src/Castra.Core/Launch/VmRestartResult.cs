using Castra.Shutdown;

namespace Castra.Launch;

/// <summary>How one VM ended up after a restart. StopOutcome is null when the VM was never stopped (refused up front).</summary>
public sealed record VmRestartResult(string VmName, ShutdownOutcome? StopOutcome, bool Started, string? ErrorId = null, string? Message = null);

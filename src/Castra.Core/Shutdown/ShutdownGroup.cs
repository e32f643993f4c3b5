namespace Castra.Shutdown;

/// <summary>The VMs of one shutdown order in a call: stopped concurrently, after every earlier group has ended.</summary>
/// <param name="Position">1-based place of the group in the call (the first group to stop is 1).</param>
/// <param name="Order">The VMs' shutdown order; null when the call did not order its VMs (one VM, or the order ignored).</param>
internal sealed record ShutdownGroup(int Position, int? Order, IReadOnlyList<string> VmNames);

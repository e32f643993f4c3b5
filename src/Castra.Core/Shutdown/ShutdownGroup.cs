namespace Castra.Shutdown;

/// <summary>The VMs of one shutdown order in a call: stopped concurrently, after every earlier group has ended.</summary>
/// <param name="Position">1-based place of the group in the call (the first group to stop is 1).</param>
/// <param name="Order">The VMs' shutdown order; null when the call did not order its VMs (one VM, or the order ignored).</param>
internal sealed record ShutdownGroup(int Position, int? Order, IReadOnlyList<string> VmNames)
{
    /// <summary>How many names a message lists: a group of 1000 VMs is said in one short line, not 1000 names per waiting VM.</summary>
    public const int NamesShown = 5;

    /// <summary>"web1, web2" or "vm1, vm2, vm3, vm4, vm5 and 995 more".</summary>
    public static string List(IReadOnlyCollection<string> names) =>
        names.Count <= NamesShown
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(NamesShown))} and {names.Count - NamesShown} more";
}

namespace Castra.Shutdown;

/// <summary>
/// The groups of one multi-VM call, in the order they stop (ascending <see cref="ShutdownOrder"/>); within a group,
/// the VMs keep the caller's order. One group holds every VM when the call ignores the order (or there is one VM).
/// </summary>
internal sealed class GroupSchedule
{
    private GroupSchedule(IReadOnlyList<ShutdownGroup> groups) => Groups = groups;

    public IReadOnlyList<ShutdownGroup> Groups { get; }

    /// <summary>True when there is more than one group: something waits for something else.</summary>
    public bool IsOrdered => Groups.Count > 1;

    /// <param name="orders">Each VM's order; a name without one is in <see cref="ShutdownOrder.Default"/>.</param>
    public static GroupSchedule Of(IReadOnlyList<string> vmNames, Func<string, int> orders)
    {
        ArgumentNullException.ThrowIfNull(vmNames);
        ArgumentNullException.ThrowIfNull(orders);
        var groups = vmNames
            .Select((name, index) => (Name: name, Index: index, Order: orders(name)))
            .GroupBy(v => v.Order)
            .OrderBy(g => g.Key)
            .Select((g, i) => new ShutdownGroup(i + 1, g.Key, g.OrderBy(v => v.Index).Select(v => v.Name).ToList()))
            .ToList();
        return new GroupSchedule(groups);
    }

    /// <summary>Every VM in one group (the call ignores the order).</summary>
    public static GroupSchedule Single(IReadOnlyList<string> vmNames) =>
        new(vmNames.Count == 0 ? [] : [new ShutdownGroup(1, null, vmNames)]);

    /// <summary>
    /// The schedule of a call: by each VM's recorded order (read from its vm.json), unless the call ignores it or
    /// there is only one VM (nothing to order, and no extra read).
    /// </summary>
    public static GroupSchedule For(State.StateRoot root, IReadOnlyList<string> vmNames, ShutdownOptions options) =>
        options.IgnoreOrder || vmNames.Count < 2
            ? Single(vmNames)
            : Of(vmNames, name => ShutdownOrder.Read(root, name));
}

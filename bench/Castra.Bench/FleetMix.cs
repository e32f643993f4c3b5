using System.Globalization;

namespace Castra.Bench;

/// <summary>
/// The share of each behaviour in a fleet: "graceful" (scenario 1), "mixed" (scenario 2: 70 % graceful, 20 % ignore
/// ACPI, 10 % ignore SIGTERM) or an explicit list such as "graceful:50,ignore-term:50".
/// </summary>
internal sealed record FleetMix(string Name, IReadOnlyList<(FakeBehavior Behavior, int Percent)> Shares)
{
    public static readonly FleetMix Graceful = new("graceful", [(FakeBehavior.Graceful, 100)]);

    public static readonly FleetMix Mixed = new("mixed", [(FakeBehavior.Graceful, 70), (FakeBehavior.IgnoreAcpi, 20), (FakeBehavior.IgnoreTerm, 10)]);

    public bool AllGraceful => Shares.All(s => s.Behavior == FakeBehavior.Graceful);

    public static FleetMix Parse(string text)
    {
        if (text == Graceful.Name)
        {
            return Graceful;
        }

        if (text == Mixed.Name)
        {
            return Mixed;
        }

        var shares = new List<(FakeBehavior, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':');
            if (pieces.Length != 2 || !int.TryParse(pieces[1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
            {
                throw new FormatException($"bad mix entry '{part}': expected behaviour:percent");
            }

            shares.Add((FakeBehaviors.Parse(pieces[0]), percent));
        }

        if (shares.Count == 0 || shares.Sum(s => s.Item2) != 100)
        {
            throw new FormatException($"the mix '{text}' must list behaviours whose percentages add up to 100");
        }

        return new FleetMix(text, shares);
    }

    /// <summary>
    /// One behaviour per VM: exact counts (largest remainder), spread over the fleet in a fixed pseudo-random order
    /// so that every run of the same size gets the same fleet and no behaviour is bunched at one end.
    /// </summary>
    public IReadOnlyList<FakeBehavior> Assign(int count)
    {
        var exact = Shares.Select(s => (s.Behavior, Value: count * s.Percent / 100.0)).ToList();
        var counts = exact.Select(e => (e.Behavior, Count: (int)Math.Floor(e.Value), Remainder: e.Value - Math.Floor(e.Value))).ToList();
        var missing = count - counts.Sum(c => c.Count);
        foreach (var index in Enumerable.Range(0, counts.Count).OrderByDescending(i => counts[i].Remainder).Take(missing))
        {
            counts[index] = counts[index] with { Count = counts[index].Count + 1 };
        }

        var list = counts.SelectMany(c => Enumerable.Repeat(c.Behavior, c.Count)).ToArray();
#pragma warning disable CA5394 // Not security: a fixed seed makes the fleet reproducible.
        new Random(6).Shuffle(list);
#pragma warning restore CA5394
        return list;
    }
}

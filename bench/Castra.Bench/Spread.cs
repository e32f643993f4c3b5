namespace Castra.Bench;

/// <summary>Min, median and max of a handful of runs (the median of an even count is the lower middle: a measured value).</summary>
internal sealed record Spread(int Count, double Min, double Median, double Max)
{
    public static Spread? Of(IEnumerable<double?> values)
    {
        var sorted = values.OfType<double>().Order().ToArray();
        return sorted.Length == 0 ? null : new Spread(sorted.Length, R(sorted[0]), R(sorted[(sorted.Length - 1) / 2]), R(sorted[^1]));
    }

    private static double R(double v) => Math.Round(v, 1);
}

namespace Castra.Bench;

/// <summary>Median, p99 and max of a sample (nearest-rank percentiles: every figure is a value that was measured).</summary>
internal sealed record Stats(int Count, double Median, double P99, double Max)
{
    public static Stats? Of(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? null : new Stats(sorted.Length, Round(Rank(sorted, 0.50)), Round(Rank(sorted, 0.99)), Round(sorted[^1]));
    }

    private static double Rank(double[] sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static double Round(double v) => Math.Round(v, 2);
}

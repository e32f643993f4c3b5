using System.CommandLine;
using System.Globalization;

namespace Castra.Cli;

/// <summary>
/// A duration in seconds, checked by the parser (exit 2 with the option's name, like any usage error): finite and
/// within its range. NaN, Infinity or 1e20 never reach TimeSpan.FromSeconds, which would throw instead.
/// </summary>
internal static class SecondsOption
{
    /// <param name="allowZero">0 is meaningful (a drain of 0 s); otherwise the value must be more than 0.</param>
    public static Option<double?> Create(string name, string description, double max, bool allowZero = false)
    {
        return new Option<double?>(name)
        {
            Description = description,
            HelpName = "SECONDS",
            CustomParser = result => Parse(result, name, max, allowZero),
        };
    }

    /// <summary>The same check for an option with a default (never null).</summary>
    public static Option<double> CreateRequired(string name, string description, double defaultSeconds, double max)
    {
        return new Option<double>(name)
        {
            Description = description,
            HelpName = "SECONDS",
            DefaultValueFactory = _ => defaultSeconds,
            CustomParser = result => Parse(result, name, max, allowZero: false) ?? defaultSeconds,
        };
    }

    public static TimeSpan? ToSpan(double? seconds) => seconds is { } s ? TimeSpan.FromSeconds(s) : null;

    private static double? Parse(System.CommandLine.Parsing.ArgumentResult result, string name, double max, bool allowZero)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            && double.IsFinite(v) && v >= 0 && (v > 0 || allowZero) && v <= max)
        {
            return v;
        }

        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be a number of seconds, {(allowZero ? "0" : "more than 0")} to {max}, not '{text}'."));
        return null;
    }
}

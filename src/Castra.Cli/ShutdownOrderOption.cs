using System.CommandLine;
using System.Globalization;
using Castra.Shutdown;

namespace Castra.Cli;

/// <summary>
/// <c>--shutdown-order N</c>: a whole number from <see cref="ShutdownOrder.Min"/> to <see cref="ShutdownOrder.Max"/>,
/// checked by the parser (exit 2 naming the option): "-1", "1.5" or "x" never reach vm.json.
/// </summary>
internal static class ShutdownOrderOption
{
    public static Option<int?> Create(string description) => new("--shutdown-order")
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var order) && ShutdownOrder.IsValid(order))
            {
                return order;
            }

            result.AddError(string.Create(CultureInfo.InvariantCulture,
                $"--shutdown-order must be a whole number from {ShutdownOrder.Min} to {ShutdownOrder.Max}, not '{text}'."));
            return null;
        },
    };
}

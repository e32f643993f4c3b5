using System.Globalization;
using System.Management.Automation;

namespace Castra.PowerShell.Tests.Support;

/// <summary>Property access as a script sees it ($o.Name), for live and deserialized objects alike.</summary>
public static class PSObjectProperties
{
    public static object? Value(this PSObject obj, string name) =>
        (obj.Properties[name] ?? throw new KeyNotFoundException($"{string.Join("/", obj.TypeNames.Take(1))} has no property {name}")).Value;

    public static string? Text(this PSObject obj, string name) => obj.Value(name) switch
    {
        null => null,
        PSObject wrapped => wrapped.ToString(),
        var value => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    public static T As<T>(this PSObject obj, string name) => LanguagePrimitives.ConvertTo<T>(obj.Value(name));

    public static IReadOnlyList<string> PropertyNames(this PSObject obj) => [.. obj.Properties.Select(p => p.Name)];
}

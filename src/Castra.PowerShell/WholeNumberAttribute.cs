using System.Globalization;
using System.Management.Automation;

namespace Castra.PowerShell;

/// <summary>
/// Refuses a fractional number for an integer parameter before PowerShell converts it: left alone, -ShutdownOrder 1.5
/// binds as 2 (PowerShell rounds to even), which would record an order the user never wrote.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class WholeNumberAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        var fractional = value switch
        {
            double d => !double.IsFinite(d) || d != Math.Floor(d),
            float f => !float.IsFinite(f) || f != MathF.Floor(f),
            decimal m => m != decimal.Floor(m),
            string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d != Math.Floor(d),
            _ => false,
        };
        if (fractional)
        {
            throw new ArgumentTransformationMetadataException(
                string.Create(CultureInfo.InvariantCulture, $"'{value}' is not a whole number: give an integer."));
        }

        return inputData;
    }
}

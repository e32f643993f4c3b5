namespace Castra.Bench;

/// <summary>How a fake VM reacts to the shutdown (fake-qemu's --fake-behavior), and the path the engine must take for it.</summary>
internal enum FakeBehavior
{
    /// <summary>Exits D ms after system_powerdown: CooperativeSucceeded, outcome Graceful.</summary>
    Graceful,

    /// <summary>Ignores the power button, exits on SIGTERM: CooperativeTimedOut, SIGTERM, outcome Forced.</summary>
    IgnoreAcpi,

    /// <summary>Ignores the power button and SIGTERM: CooperativeTimedOut, SIGTERM, SIGKILL, outcome Forced.</summary>
    IgnoreTerm,
}

internal static class FakeBehaviors
{
    public static string FlagValue(this FakeBehavior behavior) => behavior switch
    {
        FakeBehavior.Graceful => "graceful",
        FakeBehavior.IgnoreAcpi => "ignore-acpi",
        FakeBehavior.IgnoreTerm => "ignore-term",
        _ => throw new ArgumentOutOfRangeException(nameof(behavior)),
    };

    public static FakeBehavior Parse(string text) => text switch
    {
        "graceful" => FakeBehavior.Graceful,
        "ignore-acpi" => FakeBehavior.IgnoreAcpi,
        "ignore-term" => FakeBehavior.IgnoreTerm,
        _ => throw new FormatException($"unknown behaviour '{text}' (graceful, ignore-acpi, ignore-term)"),
    };

    /// <summary>The steps the audit trail records for the path this behaviour dictates (AuditTrail.PathOf's format).</summary>
    public static string ExpectedPath(this FakeBehavior behavior) => behavior switch
    {
        FakeBehavior.Graceful => "ACPI",
        FakeBehavior.IgnoreAcpi => "ACPI,SIGTERM",
        FakeBehavior.IgnoreTerm => "ACPI,SIGTERM,SIGKILL",
        _ => throw new ArgumentOutOfRangeException(nameof(behavior)),
    };

    public static string ExpectedOutcome(this FakeBehavior behavior) => behavior == FakeBehavior.Graceful ? "Graceful" : "Forced";
}

namespace Castra.Shutdown;

/// <summary>
/// The exact strings the event contract uses. Enum names are for code; these are what callers' JSON sees,
/// so they are spelled out once here rather than left to <c>ToString()</c> (ACPI is upper-case in the contract).
/// </summary>
public static class ContractNames
{
    public static string Of(CooperativeChannel channel) => channel switch
    {
        CooperativeChannel.Acpi => "ACPI",
        _ => channel.ToString(),
    };

    public static string Of(CooperativeFailureReason reason) => reason.ToString();

    public static string Of(ShutdownOutcome outcome) => outcome.ToString();

    public static string Of(ShutdownReason reason) => reason.ToString();

    public static string Of(ShutdownPhase phase) => phase.ToString();

    public static string Of(QemuFound found) => found.ToString();

    public static string Of(SaveFailureReason reason) => reason.ToString();

    public const string SigTerm = "SIGTERM";
    public const string SigKill = "SIGKILL";
}

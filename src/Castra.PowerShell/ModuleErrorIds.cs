namespace Castra.PowerShell;

/// <summary>Error ids only the module raises (PowerShell's own concerns); the engine's are in Castra.Errors.ErrorIds.</summary>
internal static class ModuleErrorIds
{
    /// <summary>-TurnOff needs a confirmation no one can give (non-interactive): add -Force.</summary>
    public const string ConfirmationRequired = "CastraConfirmationRequired";

    /// <summary>Under -ErrorAction Stop: the one terminating error, raised once every VM has run its sequence.</summary>
    public const string VmsNotStopped = "CastraVmsNotStopped";
}

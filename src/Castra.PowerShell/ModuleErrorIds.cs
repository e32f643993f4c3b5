namespace Castra.PowerShell;

/// <summary>Error ids only the module raises (PowerShell's own concerns); the engine's are in Castra.Errors.ErrorIds.</summary>
internal static class ModuleErrorIds
{
    /// <summary>-TurnOff needs a confirmation no one can give (non-interactive): add -Force.</summary>
    public const string ConfirmationRequired = "CastraConfirmationRequired";

    /// <summary>Under -ErrorAction Stop: the one terminating error, raised once every VM has run its sequence.</summary>
    public const string VmsNotStopped = "CastraVmsNotStopped";

    /// <summary>-Session: the host has no Castra module on its PSModulePath (that host only; nothing ran there).</summary>
    public const string RemoteModuleMissing = "CastraRemoteModuleMissing";

    /// <summary>-Session: the host has Castra, but not this session's version (that host only; nothing ran there).</summary>
    public const string RemoteModuleVersion = "CastraRemoteModuleVersion";

    /// <summary>A piped VM object came from another host (PSComputerName) than any this call stops VMs on.</summary>
    public const string VmOnAnotherHost = "CastraVmOnAnotherHost";

    /// <summary>-Session: the session to the host is not open or broke during the call (that host only).</summary>
    public const string RemoteHostUnreachable = "CastraRemoteHostUnreachable";
}

namespace Castra.Errors;

/// <summary>
/// Mirrors the names of PowerShell's <c>ErrorCategory</c> values that Castra uses, so the cmdlet layer can map
/// by name while this library stays free of System.Management.Automation.
/// </summary>
public enum CastraErrorCategory
{
    NotSpecified,
    InvalidArgument,
    ObjectNotFound,
    ResourceBusy,
    ResourceUnavailable,
    OperationTimeout,
    OperationStopped,
    InvalidOperation,
    InvalidData,
    NotInstalled,
    ReadError,
    WriteError,
    PermissionDenied,
    ConnectionError,
    LimitsExceeded,
    ResourceExists,
    SecurityError,
}

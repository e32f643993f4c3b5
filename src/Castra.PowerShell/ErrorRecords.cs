using System.Management.Automation;
using Castra.Errors;
using Castra.Shutdown;

namespace Castra.PowerShell;

/// <summary>Turns Castra's stable error ids and categories into ErrorRecords (TargetObject = the VM name).</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(CastraException exception) =>
        Create(exception, exception.ErrorId, exception.Category, exception.Target);

    public static ErrorRecord From(ShutdownDiagnostic diagnostic) =>
        Create(new CastraException(diagnostic.ErrorId, diagnostic.Category, diagnostic.Message) { Target = diagnostic.VmName },
            diagnostic.ErrorId, diagnostic.Category, diagnostic.VmName);

    public static ErrorRecord Create(Exception exception, string errorId, CastraErrorCategory category, object? target, string? message = null) =>
        new(exception, errorId, Map(category), target) { ErrorDetails = new ErrorDetails(message ?? exception.Message) };

    /// <summary>
    /// The engine's face-neutral category as PowerShell's own <see cref="ErrorCategory"/>: spelled out, so a category
    /// added to the engine fails this switch's compile-time check instead of silently becoming NotSpecified.
    /// </summary>
    public static ErrorCategory Map(CastraErrorCategory category) => category switch
    {
        CastraErrorCategory.NotSpecified => ErrorCategory.NotSpecified,
        CastraErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
        CastraErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
        CastraErrorCategory.ResourceBusy => ErrorCategory.ResourceBusy,
        CastraErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        CastraErrorCategory.OperationTimeout => ErrorCategory.OperationTimeout,
        CastraErrorCategory.OperationStopped => ErrorCategory.OperationStopped,
        CastraErrorCategory.InvalidOperation => ErrorCategory.InvalidOperation,
        CastraErrorCategory.InvalidData => ErrorCategory.InvalidData,
        CastraErrorCategory.NotInstalled => ErrorCategory.NotInstalled,
        CastraErrorCategory.ReadError => ErrorCategory.ReadError,
        CastraErrorCategory.WriteError => ErrorCategory.WriteError,
        CastraErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
        CastraErrorCategory.ConnectionError => ErrorCategory.ConnectionError,
        CastraErrorCategory.LimitsExceeded => ErrorCategory.LimitsExceeded,
        CastraErrorCategory.ResourceExists => ErrorCategory.ResourceExists,
        CastraErrorCategory.SecurityError => ErrorCategory.SecurityError,
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, "a CastraErrorCategory without a PowerShell ErrorCategory"),
    };
}

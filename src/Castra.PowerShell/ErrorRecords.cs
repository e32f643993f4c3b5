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

    public static ErrorRecord Create(Exception exception, string errorId, CastraErrorCategory category, object? target) =>
        new(exception, errorId, Map(category), target) { ErrorDetails = new ErrorDetails(exception.Message) };

    public static ErrorCategory Map(CastraErrorCategory category) =>
        Enum.TryParse<ErrorCategory>(category.ToString(), out var mapped) ? mapped : ErrorCategory.NotSpecified;
}

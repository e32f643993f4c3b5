using Castra.Errors;

namespace Castra.Shutdown;

/// <summary>
/// Something a caller must be told about a VM that is not a step of the sequence: a warning (stale pidfile taken
/// care of, interrupted shutdown taken over) or an error (VM not found, VM could not be stopped). The cmdlets turn
/// these into WriteWarning / non-terminating WriteError; the CLI prints them on stderr.
/// </summary>
public sealed record ShutdownDiagnostic(
    string VmName,
    DiagnosticSeverity Severity,
    string ErrorId,
    CastraErrorCategory Category,
    string Message);

namespace Castra.Shutdown;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}

namespace Castra.Shutdown;

public enum DiagnosticSeverity
{
    Warning,
    Error,

    /// <summary>
    /// Not a problem: how the run decided what it did (which process was proven and why, which hooks it found), for a
    /// face's verbose output (PowerShell -Verbose). The events themselves are not repeated here.
    /// </summary>
    Trace,
}

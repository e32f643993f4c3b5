using Castra.Events;

namespace Castra.Shutdown;

/// <summary>One item of a <see cref="ShutdownFeed"/>: exactly one of the two is set.</summary>
public sealed record ShutdownMessage(ShutdownEvent? Event, ShutdownDiagnostic? Diagnostic);

namespace Castra.Shutdown;

/// <summary>One line of <c>audit.ndjson</c> at the state root: who stopped which VM, why, how, and how it ended.</summary>
public sealed record AuditRecord
{
    public DateTime Timestamp { get; init; }

    public string VmName { get; init; } = "";

    public string ShutdownId { get; init; } = "";

    public string Reason { get; init; } = "";

    public string? Message { get; init; }

    /// <summary>The user the shutdown ran as.</summary>
    public string User { get; init; } = "";

    public string Host { get; init; } = "";

    /// <summary>The orchestrating process.</summary>
    public int Pid { get; init; }

    public DateTime StartedAt { get; init; }

    public string Outcome { get; init; } = "";

    public long TotalMs { get; init; }

    public bool Changed { get; init; }

    public bool Force { get; init; }

    /// <summary>The steps that acted, comma-separated, e.g. "ACPI" or "ACPI,SIGTERM" or "None" (nothing to do).</summary>
    public string Path { get; init; } = "";

    public int HooksSucceeded { get; init; }

    public int HooksFailed { get; init; }

    public int HooksTimedOut { get; init; }

    public int SessionsInterrupted { get; init; }

    /// <summary>As ShutdownComplete.QemuFound: an Exited QEMU had died before the call, not by this shutdown.</summary>
    public string? QemuFound { get; init; }

    public string? Detail { get; init; }
}

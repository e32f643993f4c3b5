namespace Castra.Shutdown;

/// <summary>How the caller wants the guest asked to power off.</summary>
public enum CooperativeMethod
{
    /// <summary>The guest agent if its socket exists and it answers a sync within 1 s, else the ACPI power button.</summary>
    Auto,

    /// <summary>Only the ACPI power button (QMP system_powerdown).</summary>
    Acpi,

    /// <summary>Only the guest agent (guest-shutdown); no fallback.</summary>
    Agent,
}

namespace Castra.Shutdown;

/// <summary>The channel a cooperative attempt actually used (<c>CooperativeAttempted.Method</c>).</summary>
public enum CooperativeChannel
{
    /// <summary>QMP <c>system_powerdown</c>: the virtual ACPI power button. Written as "ACPI".</summary>
    Acpi,

    /// <summary>The QEMU guest agent's <c>guest-shutdown</c>.</summary>
    Agent,

    /// <summary>No channel exists (no QMP socket): nothing was sent, nothing waited for.</summary>
    Unavailable,

    /// <summary>The caller skipped the cooperative step (<c>-Force</c> / <c>--force</c>).</summary>
    None,
}

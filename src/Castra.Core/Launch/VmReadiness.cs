namespace Castra.Launch;

/// <summary>What Wait-CastraVm / castra wait reports per VM. Flat and JSON-friendly.</summary>
public sealed record VmReadiness
{
    public string Name { get; init; } = "";

    /// <summary>True when every condition held at one look; false when the timeout came first.</summary>
    public bool Ready { get; init; }

    /// <summary>From the start of the wait to the look that found the VM ready (or to the timeout).</summary>
    public long Ms { get; init; }

    /// <summary>The conditions, e.g. "QMP running, guest agent ping, marker 'CASTRA-READY'".</summary>
    public string WaitedFor { get; init; } = "";

    /// <summary>When not ready: what the last look found missing (guest-written text is quoted, bounded).</summary>
    public string? Detail { get; init; }

    /// <summary>The state root the VM lives under (binds -StateRoot by property name when piped).</summary>
    public string StateRoot { get; init; } = "";
}

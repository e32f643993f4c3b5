namespace Castra.State;

/// <summary>One VM under the state root, as Get-CastraVm and castra ps show it. Flat and JSON-friendly.</summary>
public sealed record VmInfo
{
    public string Name { get; init; } = "";

    /// <summary>Running, Stopped, ShuttingDown or Stale.</summary>
    public string State { get; init; } = "";

    public int? Pid { get; init; }

    /// <summary>qmp.sock exists (the ACPI channel).</summary>
    public bool Qmp { get; init; }

    /// <summary>qga.sock exists (the guest agent channel).</summary>
    public bool Agent { get; init; }

    public DateTime? StartedAt { get; init; }

    public long? UptimeMs { get; init; }

    /// <summary>Outcome of the last completed shutdown, if any.</summary>
    public string? LastOutcome { get; init; }

    public DateTime? LastShutdownAt { get; init; }

    /// <summary>The VM has a saved image (saved-state.img, from Stop-CastraVm -Save / castra down --save): its next start resumes it.</summary>
    public bool SavedState { get; init; }

    public string Directory { get; init; } = "";

    /// <summary>The state root the VM lives under (binds -StateRoot by property name when piped).</summary>
    public string StateRoot { get; init; } = "";

    /// <summary>Why the VM is Stale, when it is.</summary>
    public string? Detail { get; init; }

    /// <summary>Its shutdown order from vm.json (0 when none is recorded or vm.json cannot be used): lower orders stop first.</summary>
    public int ShutdownOrder { get; init; }
}

using System.Text.Json.Serialization;

namespace Castra.Hooks;

/// <summary>
/// A registered cleanup hook, as stored in <c>hooks.json</c> at the state root and as shown by
/// Get-CastraCleanupHook / <c>castra hook list</c>. Flat: strings, numbers, a string array and UTC times.
/// </summary>
public sealed record CleanupHook
{
    /// <summary>Unique within its scope (<see cref="VmName"/>).</summary>
    public string Name { get; init; } = "";

    /// <summary>One VM's name, or <c>*</c> for every VM. A VM's own hook replaces a <c>*</c> hook of the same name.</summary>
    public string VmName { get; init; } = HookScope.AllVms;

    /// <summary>PreStop or PostStop.</summary>
    public string Stage { get; init; } = nameof(HookStage.PreStop);

    /// <summary>0–1000, lower first; equal priorities run concurrently. 0–10 are Castra's own.</summary>
    public int Priority { get; init; } = HookLimits.DefaultPriority;

    public long TimeoutMs { get; init; } = HookLimits.DefaultTimeoutMs;

    /// <summary>Executable or ScriptBlock.</summary>
    public string Kind { get; init; } = nameof(HookKind.Executable);

    /// <summary>The program's absolute path (for a ScriptBlock hook: the pwsh that registered it).</summary>
    public string Executable { get; init; } = "";

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The script block's text (ScriptBlock hooks only).</summary>
    public string? ScriptBlock { get; init; }

    /// <summary>The directory the hook runs in: where it was registered, so relative arguments keep their meaning.</summary>
    public string? WorkingDirectory { get; init; }

    public DateTime RegisteredAt { get; init; }

    /// <summary>user@host that registered it.</summary>
    public string RegisteredBy { get; init; } = "";

    /// <summary>The state root it is registered under (not stored: filled in when read), so piped objects find it again.</summary>
    [JsonIgnore]
    public string StateRoot { get; init; } = "";

    internal HookStage StageValue => Enum.Parse<HookStage>(Stage, ignoreCase: true);

    internal bool AppliesTo(string vmName) => VmName == HookScope.AllVms || string.Equals(VmName, vmName, StringComparison.Ordinal);

    /// <summary>A one-line summary, e.g. <c>export-db (PreStop, priority 100, ≤5s)</c>.</summary>
    public string Describe() =>
        $"{Name} ({Stage}, priority {Priority}, ≤{Events.EventText.Seconds(TimeoutMs)})";
}

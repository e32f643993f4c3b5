namespace Castra.Hooks;

/// <summary>What a caller asks to register (validated and resolved by <see cref="HookStore.Register"/>).</summary>
public sealed record HookRegistration
{
    public string Name { get; init; } = "";

    /// <summary>One VM's name or <c>*</c>.</summary>
    public string VmName { get; init; } = HookScope.AllVms;

    public HookStage Stage { get; init; } = HookStage.PreStop;

    public int Priority { get; init; } = HookLimits.DefaultPriority;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(HookLimits.DefaultTimeoutMs);

    /// <summary>A program (absolute, relative to <see cref="WorkingDirectory"/>, or found on PATH). Exclusive with <see cref="ScriptBlock"/>.</summary>
    public string? Executable { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>PowerShell script text, run by <see cref="PowerShellPath"/>.</summary>
    public string? ScriptBlock { get; init; }

    /// <summary>The pwsh executable that runs <see cref="ScriptBlock"/> (the cmdlets pass their own process's path).</summary>
    public string? PowerShellPath { get; init; }

    /// <summary>Null: the caller's current directory.</summary>
    public string? WorkingDirectory { get; init; }
}

namespace Castra.Hooks;

/// <summary>What a hook runs.</summary>
public enum HookKind
{
    /// <summary>A program with arguments.</summary>
    Executable,

    /// <summary>A PowerShell script block, run by the pwsh that registered it (-NoProfile -NonInteractive).</summary>
    ScriptBlock,
}

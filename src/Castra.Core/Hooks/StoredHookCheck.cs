using Castra.State;

namespace Castra.Hooks;

/// <summary>
/// Checks a hook read back from <c>hooks.json</c> like user input: the file may have been edited by hand or damaged,
/// so every field registration guarantees is checked again before the hook may run (as root, at host shutdown).
/// </summary>
internal static class StoredHookCheck
{
    private const long MaxTimeoutMs = (long)(HookLimits.MaxTimeoutSeconds * 1000);

    /// <summary>Null when the hook is usable; else what is wrong with it.</summary>
    public static string? Problem(CleanupHook? hook)
    {
        if (hook is null)
        {
            return "the entry is null";
        }

        if (!VmName.IsValid(hook.Name))
        {
            return "its Name is missing or not a valid hook name";
        }

        if (hook.VmName is null || (hook.VmName != HookScope.AllVms && !VmName.IsValid(hook.VmName)))
        {
            return "its VmName is neither '*' nor a valid VM name";
        }

        if (hook.Stage is not (nameof(HookStage.PreStop) or nameof(HookStage.PostStop)))
        {
            return $"its Stage '{hook.Stage}' is neither PreStop nor PostStop";
        }

        if (hook.Priority is <= HookLimits.MaxReservedPriority or > HookLimits.MaxPriority)
        {
            return $"its Priority {hook.Priority} is outside {HookLimits.MaxReservedPriority + 1}-{HookLimits.MaxPriority}";
        }

        if (hook.TimeoutMs is < 1 or > MaxTimeoutMs)
        {
            return $"its TimeoutMs {hook.TimeoutMs} is outside 1-{MaxTimeoutMs}";
        }

        if (hook.Kind is not (nameof(HookKind.Executable) or nameof(HookKind.ScriptBlock)))
        {
            return $"its Kind '{hook.Kind}' is neither Executable nor ScriptBlock";
        }

        // A script block's pwsh is found when it runs; its recorded one (maybe none) is only a fallback.
        if (hook.Kind == nameof(HookKind.Executable) && (string.IsNullOrEmpty(hook.Executable) || !Path.IsPathRooted(hook.Executable)))
        {
            return "its Executable is not an absolute path";
        }

        if (hook.Executable is null || (hook.Executable.Length > 0 && !Path.IsPathRooted(hook.Executable)))
        {
            return "its Executable is not an absolute path";
        }

        if (hook.Arguments is null || hook.Arguments.Any(a => a is null))
        {
            return "its Arguments are missing or hold null";
        }

        if (hook.Kind == nameof(HookKind.ScriptBlock) && string.IsNullOrEmpty(hook.ScriptBlock))
        {
            return "it is a ScriptBlock hook without a script block";
        }

        if (hook.WorkingDirectory is { } cwd && !Path.IsPathRooted(cwd))
        {
            return "its WorkingDirectory is not an absolute path";
        }

        return null;
    }
}

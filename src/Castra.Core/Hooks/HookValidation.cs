using System.Globalization;
using Castra.Errors;
using Castra.Launch;
using Castra.Native;
using Castra.State;

namespace Castra.Hooks;

/// <summary>Turns a registration into a stored hook, or says exactly what is wrong with it.</summary>
internal static class HookValidation
{
    public static CleanupHook Resolve(HookRegistration r, string stateRoot)
    {
        if (!VmName.IsValid(r.Name))
        {
            throw Invalid($"'{r.Name}' is not a valid hook name: use 1-{HookLimits.MaxNameLength} letters, digits, '-', '_' or '.', starting with a letter or digit.", r.Name);
        }

        if (r.Name.StartsWith(HookLimits.ReservedPrefix, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"Hook names starting with '{HookLimits.ReservedPrefix}' are reserved for Castra's own steps.", r.Name);
        }

        if (r.VmName != HookScope.AllVms && !VmName.IsValid(r.VmName))
        {
            throw Invalid($"'{r.VmName}' is neither a valid VM name nor '*' (every VM).", r.Name);
        }

        if (r.Priority is <= HookLimits.MaxReservedPriority or > HookLimits.MaxPriority)
        {
            throw Invalid(
                r.Priority is >= HookLimits.MinPriority and <= HookLimits.MaxReservedPriority
                    ? $"Priority {r.Priority} is reserved for Castra's own steps (0-{HookLimits.MaxReservedPriority}); use {HookLimits.MaxReservedPriority + 1}-{HookLimits.MaxPriority}."
                    : $"Priority must be {HookLimits.MaxReservedPriority + 1}-{HookLimits.MaxPriority} (lower runs first), not {r.Priority}.",
                r.Name);
        }

        // Checked on the value stored (whole milliseconds): 0.0004 s is more than 0 but would be stored as 0 ms, a
        // hook that times out at once.
        var timeoutMs = (long)Math.Round(r.Timeout.TotalMilliseconds);
        if (!(timeoutMs >= 1 && r.Timeout.TotalSeconds <= HookLimits.MaxTimeoutSeconds))
        {
            throw new CastraException(ErrorIds.InvalidTimeout, CastraErrorCategory.InvalidArgument,
                $"A hook's timeout must be at least 0.001 (1 ms) and at most {HookLimits.MaxTimeoutSeconds} seconds, not {r.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.")
            { Target = r.Name };
        }

        var cwd = Path.GetFullPath(r.WorkingDirectory ?? Environment.CurrentDirectory);
        var hasExe = !string.IsNullOrWhiteSpace(r.Executable);
        var hasScript = !string.IsNullOrWhiteSpace(r.ScriptBlock);
        if (hasExe == hasScript)
        {
            throw Invalid("Give either an executable (with its arguments) or a PowerShell script block, not both and not neither.", r.Name);
        }

        // A script block runs with the pwsh found when it runs (PowerShellRuntime), so a pwsh upgrade that moves the
        // versioned path does not break it; the registering pwsh is kept only as the fallback when PATH has none.
        var executable = hasExe ? ResolveExecutable(r.Executable!, cwd, r.Name) : PowerShellRuntime.Fallback(r.PowerShellPath);
        return new CleanupHook
        {
            Name = r.Name,
            VmName = r.VmName,
            Stage = r.Stage.ToString(),
            Priority = r.Priority,
            TimeoutMs = timeoutMs,
            Kind = (hasExe ? HookKind.Executable : HookKind.ScriptBlock).ToString(),
            Executable = executable,
            Arguments = r.Arguments.ToArray(),
            ScriptBlock = hasScript ? r.ScriptBlock : null,
            WorkingDirectory = cwd,
            RegisteredAt = DateTime.UtcNow,
            RegisteredBy = $"{Environment.UserName}@{Environment.MachineName}",
            StateRoot = stateRoot,
        };
    }

    /// <summary>Absolute and executable: a scheduled task with another PATH or directory still finds the same program.</summary>
    private static string ResolveExecutable(string program, string cwd, string hookName)
    {
        var candidate = program.Contains('/', StringComparison.Ordinal)
            ? Path.GetFullPath(program, cwd)
            : ExternalCommand.Which(program);
        if (candidate is null || !File.Exists(candidate))
        {
            throw new CastraException(ErrorIds.HookExecutableNotFound, CastraErrorCategory.ObjectNotFound,
                program.Contains('/', StringComparison.Ordinal)
                    ? $"The hook's program {candidate} does not exist."
                    : $"The hook's program '{program}' was not found on PATH; give its full path.")
            { Target = hookName };
        }

        if (Libc.access(candidate, Libc.X_OK) != 0)
        {
            throw new CastraException(ErrorIds.HookExecutableNotFound, CastraErrorCategory.PermissionDenied,
                $"The hook's program {candidate} is not executable (chmod +x it, or register the interpreter with the script as an argument).")
            { Target = hookName };
        }

        return candidate;
    }

    private static CastraException Invalid(string message, string? target) =>
        new(ErrorIds.InvalidHook, CastraErrorCategory.InvalidArgument, message) { Target = target };
}

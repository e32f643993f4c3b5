using Castra.Launch;

namespace Castra.Hooks;

/// <summary>
/// Which pwsh runs a script-block hook: the one on PATH when the hook runs, else the one that registered it (its path
/// is recorded as the fallback: systemd units and cron often run with a PATH that has no pwsh). Looked up at run time,
/// because a recorded versioned path (/opt/microsoft/powershell/7.4/pwsh) disappears with the next upgrade.
/// </summary>
internal static class PowerShellRuntime
{
    /// <summary>The pwsh to run now; null when there is none.</summary>
    public static string? Find(string? registered) =>
        ExternalCommand.Which("pwsh") ?? (registered is { Length: > 0 } path && File.Exists(path) ? path : null);

    /// <summary>What registration records: the registering pwsh when known, else the one on PATH now, else "" (looked up at run time).</summary>
    public static string Fallback(string? registering) =>
        registering is { Length: > 0 } path && Path.IsPathRooted(path) ? path : ExternalCommand.Which("pwsh") ?? "";
}

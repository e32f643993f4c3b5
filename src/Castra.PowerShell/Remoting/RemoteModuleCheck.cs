using System.Globalization;
using System.Management.Automation;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// Before anything runs on a host: is Castra there, and is it this version? Objects, parameters and error ids are
/// one version's contract, so another version is refused (CastraRemoteModuleVersion) rather than half understood;
/// the matching version is imported into the session (side by side with others a host may have installed).
/// </summary>
internal static class RemoteModuleCheck
{
    /// <summary>
    /// Runs in the remote session: "Loaded" and the version now imported there, or "Available" and the versions
    /// installed (none: the module is missing). A session that already imported another version keeps it (a module's
    /// assembly cannot be unloaded), and is reported as that version.
    /// </summary>
    public const string Script = """
        param([string] $Version)
        $ErrorActionPreference = 'Stop'
        $loaded = @(Get-Module -Name Castra)
        if ($loaded.Count -gt 0) { return @('Loaded') + @($loaded | ForEach-Object { $_.Version.ToString() }) }
        $installed = @(Get-Module -ListAvailable -Name Castra)
        if (@($installed | Where-Object { $_.Version -eq [version] $Version }).Count -gt 0) {
            Import-Module -Name Castra -RequiredVersion $Version
            return @('Loaded', $Version)
        }
        return @('Available') + @($installed | ForEach-Object { $_.Version.ToString() })
        """;

    /// <summary>Null when the host is ready; else the error that host gets (nothing was run there).</summary>
    public static ErrorRecord? Verdict(IReadOnlyList<PSObject> reply, Version local, string host)
    {
        var words = reply.Select(o => Convert.ToString(o.BaseObject, CultureInfo.InvariantCulture) ?? "").ToList();
        var versions = words.Skip(1).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (words.FirstOrDefault() == "Loaded" && versions.Any(v => Version.TryParse(v, out var found) && found == local))
        {
            return null;
        }

        return versions.Count == 0
            ? RemoteErrors.ModuleMissing(host, local)
            : RemoteErrors.ModuleVersion(host, local, versions, loaded: words.FirstOrDefault() == "Loaded");
    }
}

using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// Before anything runs on a host: is Castra there, and is it this version? Objects, parameters and error ids are
/// one version's contract, so another version is refused (CastraRemoteModuleVersion) rather than half understood;
/// the matching version is imported into the session (side by side with others a host may have installed). Asked
/// to (-AsJob), the same round trip also names the VMs the host's call will work on (<see cref="RemoteVmSelection"/>).
/// </summary>
internal static class RemoteModuleCheck
{
    /// <summary>Separates the versions from the VM names in the reply (no version looks like it).</summary>
    private const string VmsMarker = "|VMs|";

    /// <summary>
    /// Runs in the remote session: "Loaded" and the version now imported there, or "Available" and the versions
    /// installed (none: the module is missing). A session that already imported another version keeps it (a module's
    /// assembly cannot be unloaded), and is reported as that version. With $Select (Names: the names or patterns, or
    /// none for every VM; StateRoot) and this version loaded, the marker and the VM names follow.
    /// </summary>
    public const string Script = """
        param([string] $Version, [hashtable] $Select)
        $ErrorActionPreference = 'Stop'
        $loaded = @(Get-Module -Name Castra)
        if ($loaded.Count -eq 0) {
            $installed = @(Get-Module -ListAvailable -Name Castra)
            if (@($installed | Where-Object { $_.Version -eq [version] $Version }).Count -eq 0) {
                return @('Available') + @($installed | ForEach-Object { $_.Version.ToString() })
            }
            Import-Module -Name Castra -RequiredVersion $Version
            $loaded = @(Get-Module -Name Castra)
        }
        $reply = @('Loaded') + @($loaded | ForEach-Object { $_.Version.ToString() })
        if ($null -ne $Select -and @($loaded | Where-Object { $_.Version -eq [version] $Version }).Count -gt 0) {
            $reply += '|VMs|'
            try {
                # [NullString]: a $null passed to a string parameter would arrive as '' (an explicit, empty root).
                $root = if ($Select.StateRoot) { $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath([string] $Select.StateRoot) } else { [NullString]::Value }
                $reply += @([Castra.PowerShell.Remoting.RemoteVmSelection]::Resolve($root, $Select.Names))
            } catch {
                # Names unknown: the host's own call reports what is wrong, to that host's job.
            }
        }
        return $reply
        """;

    /// <summary>What <see cref="Script"/>'s $Select gets: the names (null: -All) and -StateRoot of a host's call.</summary>
    public static Hashtable Select(Hashtable callParameters) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Names"] = callParameters["All"] is true ? null : callParameters["Name"],
        ["StateRoot"] = callParameters["StateRoot"],
    };

    /// <summary>Null when the host is ready; else the error that host gets (nothing was run there).</summary>
    public static ErrorRecord? Verdict(IReadOnlyList<PSObject> reply, Version local, string host)
    {
        var words = Words(reply).TakeWhile(w => w != VmsMarker).ToList();
        var versions = words.Skip(1).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (words.FirstOrDefault() == "Loaded" && versions.Any(v => Version.TryParse(v, out var found) && found == local))
        {
            return null;
        }

        return versions.Count == 0
            ? RemoteErrors.ModuleMissing(host, local)
            : RemoteErrors.ModuleVersion(host, local, versions, loaded: words.FirstOrDefault() == "Loaded");
    }

    /// <summary>The VM names the reply carries (none when they were not asked for or could not be read).</summary>
    public static IReadOnlyList<string> Vms(IReadOnlyList<PSObject> reply) =>
        [.. Words(reply).SkipWhile(w => w != VmsMarker).Skip(1).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal)];

    private static IEnumerable<string> Words(IReadOnlyList<PSObject> reply) =>
        reply.Select(o => Convert.ToString(o?.BaseObject, CultureInfo.InvariantCulture) ?? "");
}

using System.Management.Automation;
using Castra.HostShutdown;

namespace Castra.PowerShell;

/// <summary>
/// Parameter validation for systemd unit names (-After, -Before, -UnitName): the same rule as the CLI's validators,
/// from <see cref="HostShutdownSettings"/>, so a bad name is a parameter binding error before anything runs.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateUnitNameAttribute : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>Only a plain .service name (the unit Castra writes), not any unit kind.</summary>
    public bool ServiceOnly { get; set; }

    protected override void ValidateElement(object element)
    {
        var name = element as string ?? "";
        if (ServiceOnly ? !HostShutdownSettings.IsServiceName(name) : !HostShutdownSettings.IsUnitName(name))
        {
            throw new ValidationMetadataException(ServiceOnly
                ? $"'{name}' is not a service unit name: letters, digits and :_.- ending in .service."
                : $"'{name}' is not a systemd unit name (for example network-online.target or postgresql.service).");
        }
    }
}

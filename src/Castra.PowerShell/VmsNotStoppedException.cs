using System.Management.Automation;

namespace Castra.PowerShell;

/// <summary>The terminating error of a call under -ErrorAction Stop in which some VMs were not stopped: each VM's own record inside.</summary>
public sealed class VmsNotStoppedException : Exception
{
    public VmsNotStoppedException()
        : this("Some VMs were not stopped.", [])
    {
    }

    public VmsNotStoppedException(string message)
        : this(message, [])
    {
    }

    public VmsNotStoppedException(string message, Exception innerException)
        : base(message, innerException) => Errors = [];

    internal VmsNotStoppedException(string message, IReadOnlyList<ErrorRecord> errors)
        : base(message, errors.Count > 0 ? errors[0].Exception : null) => Errors = errors;

    /// <summary>Each VM's error record, in the order they happened.</summary>
    public IReadOnlyList<ErrorRecord> Errors { get; }
}

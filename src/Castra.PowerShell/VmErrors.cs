using System.Collections;
using System.Management.Automation;

namespace Castra.PowerShell;

/// <summary>
/// A cmdlet's per-VM errors. Normally each is written as it happens (non-terminating). Under -ErrorAction Stop (or
/// $ErrorActionPreference = 'Stop', how ops scripts get a non-zero exit) writing one would end the call there and
/// cancel VMs whose power button was already pressed; so they are kept until every VM has run its whole sequence,
/// then the call ends with one terminating error that names them all, each VM's own record inside it and in $Error
/// (and in -ErrorVariable). Warnings under -WarningAction Stop are held back the same way: a VM that had to be forced
/// must not cancel the VMs still running.
/// </summary>
internal sealed class VmErrors
{
    private readonly PSCmdlet _cmdlet;
    private readonly bool _defer;
    private readonly bool _deferWarnings;
    private readonly List<ErrorRecord> _deferred = [];
    private readonly List<string> _warnings = [];
    private readonly string _done;

    /// <param name="done">What the call does to a VM, for the final error ("were not stopped", "were not restarted").</param>
    public VmErrors(PSCmdlet cmdlet, string done = "stopped")
    {
        _cmdlet = cmdlet;
        _done = done;
        _defer = IsStop(cmdlet, "ErrorAction", "ErrorActionPreference");
        _deferWarnings = IsStop(cmdlet, "WarningAction", "WarningPreference");
    }

    private static bool IsStop(PSCmdlet cmdlet, string parameter, string preferenceVariable)
    {
        var preference = cmdlet.MyInvocation.BoundParameters.TryGetValue(parameter, out var bound)
            ? bound
            : cmdlet.SessionState.PSVariable.GetValue(preferenceVariable);
        return preference is ActionPreference.Stop || (preference is string text && string.Equals(text, "Stop", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>On the pipeline thread only.</summary>
    public void Warn(string message)
    {
        if (_deferWarnings)
        {
            _warnings.Add(message);
        }
        else
        {
            _cmdlet.WriteWarning(message);
        }
    }

    /// <summary>On the pipeline thread only.</summary>
    public void Report(ErrorRecord record)
    {
        if (_defer)
        {
            // As WriteError would have qualified it ("Id,Command"), so scripts match the same id either way.
            _deferred.Add(record.FullyQualifiedErrorId.Contains(',', StringComparison.Ordinal)
                ? record
                : new ErrorRecord(record.Exception, $"{record.FullyQualifiedErrorId},{_cmdlet.GetType().FullName}", record.CategoryInfo.Category, record.TargetObject)
                {
                    ErrorDetails = record.ErrorDetails,
                });
        }
        else
        {
            _cmdlet.WriteError(record);
        }
    }

    /// <summary>
    /// The one terminating error for every deferred error (nothing when no VM failed); then the deferred warnings,
    /// the first of which ends the call as -WarningAction Stop asks, now that every VM is done.
    /// </summary>
    public void ThrowIfDeferred()
    {
        if (_deferred.Count == 0)
        {
            _warnings.ForEach(_cmdlet.WriteWarning);
            return;
        }

        // Each VM's record stays reachable: in $Error (newest first, as PowerShell keeps it) and in the exception.
        if (_cmdlet.SessionState.PSVariable.GetValue("Error") is ArrayList errors)
        {
            foreach (var record in _deferred)
            {
                errors.Insert(0, record);
            }
        }

        // -ErrorVariable gets them too, before the terminating error PowerShell adds to it.
        if (_cmdlet.MyInvocation.BoundParameters.TryGetValue("ErrorVariable", out var name) && name is string variable
            && _cmdlet.SessionState.PSVariable.GetValue(variable.TrimStart('+')) is IList list)
        {
            foreach (var record in _deferred)
            {
                list.Add(record);
            }
        }

        var targets = _deferred.Select(r => r.TargetObject?.ToString() ?? "?").Distinct(StringComparer.Ordinal).ToArray();
        var exception = new VmsNotStoppedException(
            $"{targets.Length} VM(s) were not {_done}: {string.Join("; ", _deferred.Select(r => $"{r.TargetObject}: {r.FullyQualifiedErrorId.Split(',')[0]}"))}. " +
            "Every other VM ran its whole sequence. Each VM's own error is in $Error and in this error's Exception.Errors.",
            _deferred);
        var categories = _deferred.Select(r => r.CategoryInfo.Category).Distinct().ToList();
        _cmdlet.ThrowTerminatingError(new ErrorRecord(exception, ModuleErrorIds.VmsNotStopped, categories.Count == 1 ? categories[0] : ErrorCategory.NotSpecified, targets));
    }
}

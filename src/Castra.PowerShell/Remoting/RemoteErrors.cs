using System.Management.Automation;
using System.Management.Automation.Remoting;
using System.Management.Automation.Runspaces;
using Castra.Errors;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// The error records of a call across hosts. A host's own failure (unreachable, no module, another version) is that
/// host's non-terminating error, TargetObject = the host as its session names it. What a host's cmdlet wrote keeps its
/// FullyQualifiedErrorId, category and TargetObject (the VM), with the host in OriginInfo, as Invoke-Command gives it.
/// </summary>
internal static class RemoteErrors
{
    /// <summary>How to put the module on a host, said once for both module errors.</summary>
    private static string InstallHint(string host, Version local) =>
        $"Install Castra {local} on {host}: copy the loaded module's folder there over the session (Copy-Item -ToSession), " +
        $"or install the package that ./build.ps1 -Task Package builds (out/Castra.{local}.nupkg) with Install-PSResource; " +
        "see about_Castra, FLEETS ACROSS HOSTS.";

    public static ErrorRecord ModuleMissing(string host, Version local) =>
        Create(ModuleErrorIds.RemoteModuleMissing, ErrorCategory.NotInstalled, host,
            $"The Castra module is not installed on {host} (not found on its PSModulePath): nothing was run there. {InstallHint(host, local)}");

    public static ErrorRecord ModuleVersion(string host, Version local, IReadOnlyList<string> found, bool loaded) =>
        Create(ModuleErrorIds.RemoteModuleVersion, ErrorCategory.InvalidOperation, host,
            (loaded
                ? $"The session to {host} has Castra {string.Join(", ", found)} imported, not {local} (this session's): nothing was run there. Open a new session after installing {local}. "
                : $"{host} has Castra {string.Join(", ", found)}, not {local} (this session's): nothing was run there. ")
            + InstallHint(host, local));

    public static ErrorRecord Unreachable(string host, string reason, Exception? exception = null) =>
        Create(ModuleErrorIds.RemoteHostUnreachable, ErrorCategory.ResourceUnavailable, host,
            $"{host} cannot be reached through its session ({reason}): its VMs were not touched by this call, or its part was cut off. " +
            $"Check the host, then open a new session (New-PSSession -HostName {host}).", exception);

    public static ErrorRecord VmOnAnotherHost(IReadOnlyList<string> names, string host) =>
        Create(ModuleErrorIds.VmOnAnotherHost, ErrorCategory.InvalidArgument, string.Join(",", names),
            $"VM(s) {string.Join(", ", names.Select(n => $"'{n}'"))} came from {host} (their PSComputerName), not from this machine: nothing was stopped " +
            $"here, where the same name may be another VM. Stop them on {host}: pipe them to Stop-CastraVm -Session with a session to {host}.");

    public static ErrorRecord NoSessionFor(string host, IReadOnlyList<string> names) =>
        Create(ModuleErrorIds.VmOnAnotherHost, ErrorCategory.InvalidArgument, string.Join(",", names),
            $"VM(s) {string.Join(", ", names.Select(n => $"'{n}'"))} came from {host} (their PSComputerName), and no session given to -Session reaches {host}: " +
            "they were not stopped. Add that host's session.");

    public static ErrorRecord DeadlinePassed(string host, double deadlineSeconds) =>
        Create(ErrorIds.DeadlineExceeded, ErrorCategory.LimitsExceeded, host,
            $"The deadline of {deadlineSeconds:0.###}s had passed before {host} could start: nothing was started there.");

    /// <summary>With -Deadline, a host whose part had not come back by the deadline and its grace: stopped and left.</summary>
    public static ErrorRecord NoAnswer(string host, TimeSpan deadline, TimeSpan grace, Exception? exception = null) =>
        Create(ModuleErrorIds.RemoteHostUnreachable, ErrorCategory.OperationTimeout, host,
            $"{host} did not finish its part within -Deadline {deadline.TotalSeconds:0.###}s and {grace.TotalSeconds:0}s more: its part was stopped and the host " +
            "left (it may be hung, or its link down); what it did to its VMs is unknown here. Check the host with Get-CastraShutdownStatus " +
            $"over a new session (New-PSSession -HostName {host}).", exception);

    public static ErrorRecord Unexpected(string host, Exception exception) =>
        Create(ErrorIds.Unexpected, ErrorCategory.NotSpecified, host,
            $"{host}: its part of the call failed unexpectedly ({exception.GetType().Name}: {exception.Message}); the other hosts are not affected.", exception);

    /// <summary>What a host's cmdlet wrote or threw, tagged with the host (OriginInfo) and otherwise as it was.</summary>
    public static ErrorRecord FromHost(ErrorRecord record, string host, Guid runspaceId) =>
        record is RemotingErrorRecord ? record : new RemotingErrorRecord(record, new OriginInfo(host, runspaceId));

    private static ErrorRecord Create(string id, ErrorCategory category, string host, string message, Exception? inner = null) =>
        new(new RemoteHostException(message, inner), id, category, host) { ErrorDetails = new ErrorDetails(message) };
}

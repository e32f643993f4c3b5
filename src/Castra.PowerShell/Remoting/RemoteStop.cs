using System.Collections;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.PowerShell.Jobs;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// Stop-CastraVm -Session: the same stop on every host of the given sessions, at once. Each host runs its own
/// Stop-CastraVm (its own plan, throttle, hooks and state root), so a host's guarantees are exactly a local call's;
/// this side asks ShouldProcess per host, carries -Deadline across hosts, and streams every host's events tagged with
/// the host. One host's failure (unreachable, no module, another version, its own terminating error) is that host's
/// non-terminating error only.
/// </summary>
internal sealed class RemoteStop(PSCmdlet cmdlet, VmErrors errors, Action<Task> track, CancellationToken cancellation)
{
    /// <summary>"Yes to All" / "No to All" at the -TurnOff prompt: one answer for every host of the call.</summary>
    private bool _turnOffAll;
    private bool _turnOffNone;

    /// <param name="parameters">The remote call's parameters (<see cref="RemoteCall.From"/>), without the selection.</param>
    /// <param name="selection">The names per host; null for -All.</param>
    /// <param name="deadlineSeconds">-Deadline: one deadline for the whole call, counted from when the hosts start.</param>
    public void Run(IEnumerable<PSSession> given, Hashtable parameters, HostSelection? selection, double? deadlineSeconds, bool turnOff, bool force, bool asJob)
    {
        var version = RemoteFanOut.LocalVersion(cmdlet);
        var sink = new CmdletSink(cmdlet, errors);
        var all = RemoteFanOut.Distinct(given);
        if (selection is not null)
        {
            foreach (var (host, names) in selection.Unreached(all.Select(s => s.ComputerName)))
            {
                errors.Report(RemoteErrors.NoSessionFor(host, names));
            }
        }

        // Each host's own call: every VM, or the names typed plus those of the VM objects that came from that host. A
        // host with nothing to do is left out (no prompt, no error).
        var calls = new Dictionary<Guid, (RemoteCall Call, string What)>();
        foreach (var session in all)
        {
            var names = selection?.NamesFor(session.ComputerName);
            if (names is { Count: 0 })
            {
                continue;
            }

            calls[session.InstanceId] = names is null
                ? (new RemoteCall("Stop-CastraVm", parameters).With("All", true), "every VM")
                : (new RemoteCall("Stop-CastraVm", parameters).With("Name", names.ToArray()), $"VM(s) {string.Join(", ", names.Select(n => $"'{n}'"))}");
        }

        var sessions = all.Where(s => calls.ContainsKey(s.InstanceId)).ToList();

        if (IsWhatIf())
        {
            // One host after the other, each one's own preview (its plan, read there) under its local "What if" line.
            foreach (var session in sessions)
            {
                var (call, what) = calls[session.InstanceId];
                if (!cmdlet.ShouldProcess(Description(session, what, turnOff), $"Stop {what} on {session.ComputerName}?", "Stop-CastraVm"))
                {
                    RemoteFanOut.RunHere([session], version, (_, _) => call.With("WhatIf", true), sink, track, cancellation);
                }
            }

            return;
        }

        var approved = sessions
            .Where(s => cmdlet.ShouldProcess(Description(s, calls[s.InstanceId].What, turnOff), $"Stop {calls[s.InstanceId].What} on {s.ComputerName}?", "Stop-CastraVm")
                && ConfirmTurnOff(s, calls[s.InstanceId].What, turnOff, force))
            .ToList();
        if (approved.Count == 0)
        {
            return;
        }

        // Confirmed here, once per host: the hosts do not prompt again (-TurnOff's own confirmation included), whatever
        // $ConfirmPreference a host's profile may set.
        var clock = Stopwatch.StartNew();
        RemoteCall? CallFor(PSSession session, IRecordSink hostSink)
        {
            var call = calls[session.InstanceId].Call.With("Confirm", false);
            call = turnOff ? call.With("Force", true) : call;
            if (deadlineSeconds is not { } deadline)
            {
                return call;
            }

            // -Deadline across hosts: a host that starts late gets what is left of the one deadline, and is refused
            // there (CastraDeadlineExceeded, nothing started on it) when its worst case does not fit in that.
            var left = deadline - clock.Elapsed.TotalSeconds;
            if (left < 0.001)
            {
                hostSink.Error(RemoteErrors.DeadlinePassed(session.ComputerName, deadline));
                return null;
            }

            return call.With("Deadline", Math.Round(left, 3));
        }

        // The deadline bounds this side's wait too: a host that never answers (hung, or its link dropping packets) is
        // left once the deadline and a grace for the link have passed, rather than holding the whole call.
        TimeSpan? limit = deadlineSeconds is { } d ? TimeSpan.FromSeconds(d) + RemoteHostRun.DeadlineGrace : null;
        if (asJob)
        {
            // One round trip per host before the job exists: the module check, which also names the VMs each host's
            // call works on, so the per-VM child jobs are there when the job is returned.
            var checks = RemoteFanOut.CheckEach(approved, version, s => RemoteModuleCheck.Select(calls[s.InstanceId].Call.Parameters), cancellation);
            if (cancellation.IsCancellationRequested)
            {
                return;
            }

            var passThru = cmdlet.MyInvocation.BoundParameters.TryGetValue("PassThru", out var p) && p is SwitchParameter { IsPresent: true };
            var job = new CastraRemoteJob(cmdlet.MyInvocation.Line, approved, checks, passThru);
            cmdlet.JobRepository.Add(job);
            job.Start(version, CallFor, limit);
            cmdlet.WriteObject(job);
            return;
        }

        RemoteFanOut.RunHere(approved, version, CallFor, sink, track, cancellation, limit);
    }

    private static string Description(PSSession session, string what, bool turnOff) =>
        $"Stop {what} on {session.ComputerName}: " +
        (turnOff ? "turn them off: SIGTERM, then SIGKILL, without asking the guests." : "cooperative step, then SIGTERM, then SIGKILL, as that host plans it.");

    private bool IsWhatIf() =>
        (cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && w is SwitchParameter { IsPresent: true })
        || cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference") is true or SwitchParameter { IsPresent: true };

    /// <summary>-TurnOff is confirmed per host as a local -TurnOff is per VM (high impact), unless -Force or -Confirm:$false.</summary>
    private bool ConfirmTurnOff(PSSession session, string what, bool turnOff, bool force)
    {
        if (!turnOff || force || cmdlet.MyInvocation.BoundParameters.ContainsKey("Confirm")
            || cmdlet.SessionState.PSVariable.GetValue("ConfirmPreference") is ConfirmImpact.None)
        {
            return true;
        }

        try
        {
            return cmdlet.ShouldContinue(
                $"Turn {what} on {session.ComputerName} off? The guests are not asked to shut down: they get SIGTERM, then SIGKILL, and may lose unsaved data.",
                "Confirm turning off", ref _turnOffAll, ref _turnOffNone);
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or System.Management.Automation.Host.HostException)
        {
            errors.Report(ErrorRecords.Create(ex, ModuleErrorIds.ConfirmationRequired, Errors.CastraErrorCategory.PermissionDenied, session.ComputerName,
                $"Turning {what} on {session.ComputerName} off needs confirmation, and this session cannot ask (non-interactive): add -Force to run unattended."));
            return false;
        }
    }
}

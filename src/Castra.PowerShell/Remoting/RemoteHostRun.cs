using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Remoting;
using System.Management.Automation.Runspaces;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// One host's part of a call across hosts, through the session the user opened: the module check, then the cmdlet,
/// each a pipeline on the session's own runspace (the remoting API directly, as Invoke-Command does inside: no nested
/// pipeline on the caller's thread, one task per host, records streamed as the host writes them). Warnings and verbose
/// messages are redirected into the output there (3>&1 4>&1), so they arrive in order with the events and are written
/// once, here, rather than also shown by the remote host's UI. Nothing escapes: whatever goes wrong with the host is
/// that host's error record in <see cref="IRecordSink"/>.
/// </summary>
internal static class RemoteHostRun
{
    /// <summary>How long a host that is being stopped (Ctrl+C, Stop-Job) gets to end its part before it is left.</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);

    private const string InvokeScript = """
        param([string] $Command, [hashtable] $Parameters)
        $ProgressPreference = 'SilentlyContinue'
        & "Castra\$Command" @Parameters 3>&1 4>&1
        """;

    /// <summary>
    /// The module check alone (one round trip), with the VM names when <paramref name="select"/> is given. Never
    /// throws: whatever goes wrong with the host is its refusal.
    /// </summary>
    public static async Task<HostCheck> CheckAsync(PSSession session, Version localVersion, Hashtable? select, CancellationToken cancellation)
    {
        var host = session.ComputerName;
        var runspace = session.Runspace;
        if (runspace.RunspaceStateInfo.State != RunspaceState.Opened)
        {
            return new HostCheck(RemoteErrors.Unreachable(host, $"the session is {runspace.RunspaceStateInfo.State}", runspace.RunspaceStateInfo.Reason), []);
        }

        try
        {
            var reply = await InvokeAsync(runspace, RemoteModuleCheck.Script, [localVersion.ToString(), select], null, _ => { }, cancellation).ConfigureAwait(false);
            return new HostCheck(RemoteModuleCheck.Verdict(reply, localVersion, host), RemoteModuleCheck.Vms(reply));
        }
#pragma warning disable CA1031 // Whatever it is becomes that host's error (or, stopped, nothing), never an escape.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Failure(ex, host, runspace.InstanceId) is { } error ? new HostCheck(error, []) : new HostCheck(null, [], Stopped: true);
        }
    }

    /// <returns>True when the host ran its part to the end without any error.</returns>
    /// <param name="activityId">This host's progress bar (distinct per host of a call).</param>
    /// <param name="checkedBefore">The host's module check when it was made already (-AsJob); null: made here first.</param>
    public static async Task<bool> RunAsync(PSSession session, Version localVersion, Func<RemoteCall?> call, IRecordSink sink, int activityId,
        CancellationToken cancellation, HostCheck? checkedBefore = null)
    {
        var check = checkedBefore ?? await CheckAsync(session, localVersion, null, cancellation).ConfigureAwait(false);
        if (!check.Ready)
        {
            if (check.Refused is { } refused)
            {
                sink.Error(refused);
            }

            return false;
        }

        var host = session.ComputerName;
        var runspace = session.Runspace;
        var tagger = new RemoteOutput(host, runspace.InstanceId, activityId);
        try
        {
            // Built now, not before: what it carries (the rest of a -Deadline) depends on when this host starts.
            if (call() is not { } command)
            {
                return false;
            }

            var clean = true;
            await InvokeAsync(runspace, InvokeScript, [command.Command, command.Parameters],
                item => tagger.Forward(item, sink),
                error =>
                {
                    clean = false;
                    sink.Error(RemoteErrors.FromHost(error, host, runspace.InstanceId));
                },
                cancellation).ConfigureAwait(false);
            return clean;
        }
#pragma warning disable CA1031 // The last resort of one host's task: whatever it is becomes that host's error, never an escape.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (Failure(ex, host, runspace.InstanceId) is { } error)
            {
                sink.Error(error);
            }
        }
        finally
        {
            // However the host's part ended, its progress bar goes.
            tagger.End(sink);
        }

        return false;
    }

    /// <summary>What a failed pipeline on the host means for the caller: that host's error, or nothing when it was stopped from here.</summary>
    private static ErrorRecord? Failure(Exception exception, string host, Guid runspaceId) => exception switch
    {
        // The host's cmdlet ended its own call (say CastraStateRootNotFound there): that host's error, as written there.
        RemoteException { ErrorRecord: { } record } => RemoteErrors.FromHost(record, host, runspaceId),

        // Stopped from here (Ctrl+C, Stop-Job): the host's own records already say what each VM did.
        PipelineStoppedException or OperationCanceledException => null,
        PSRemotingTransportException or InvalidRunspaceStateException or PSInvalidOperationException or RuntimeException or InvalidOperationException
            => RemoteErrors.Unreachable(host, exception.Message, exception),
        _ => RemoteErrors.Unexpected(host, exception),
    };

    /// <summary>
    /// One pipeline on the host, its output and errors handed on in the order they arrive; Stop on cancellation.
    /// Without <paramref name="onOutput"/> the output is returned instead (a short reply, such as the module check's).
    /// </summary>
    private static async Task<IReadOnlyList<PSObject>> InvokeAsync(Runspace runspace, string script, object?[] arguments,
        Action<PSObject>? onOutput, Action<ErrorRecord> onError, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript(script);
        foreach (var argument in arguments)
        {
            ps.AddArgument(argument);
        }

        var kept = new List<PSObject>();
        var gate = new object();
        using var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, _) =>
        {
            // ReadAll takes what has arrived so far, in order, and frees it: a long run keeps no history here.
            lock (gate)
            {
                foreach (var item in output.ReadAll())
                {
                    if (onOutput is null)
                    {
                        kept.Add(item);
                    }
                    else
                    {
                        onOutput(item);
                    }
                }
            }
        };
        ps.Streams.Error.DataAdded += (_, _) =>
        {
            lock (gate)
            {
                foreach (var error in ps.Streams.Error.ReadAll())
                {
                    onError(error);
                }
            }
        };

        var started = ps.BeginInvoke<PSObject, PSObject>(null, output);
        using var stop = cancellation.Register(() =>
        {
            try
            {
                ps.BeginStop(null, null);
            }
            catch (ObjectDisposedException)
            {
                // Already ended.
            }
        });
        var ended = Task.Factory.FromAsync(started, ps.EndInvoke);

        // Once stopped, the host gets a bounded time to end its part (a dead link must not hold Ctrl+C forever).
        var leave = Task.Delay(Timeout.Infinite, cancellation)
            .ContinueWith(_ => Task.Delay(StopWait), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        if (await Task.WhenAny(ended, leave).ConfigureAwait(false) != ended)
        {
            throw new OperationCanceledException(cancellation);
        }

        await ended.ConfigureAwait(false);
        return kept;
    }
}

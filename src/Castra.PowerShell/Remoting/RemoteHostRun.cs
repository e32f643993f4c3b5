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

    /// <summary>
    /// With -Deadline: how long past the deadline a host's part may take to come back (the host's own Stop-CastraVm ends
    /// within what was left of the deadline; this covers the link). A host silent by then is not answering: it is stopped
    /// and left, so a hung host or a link that drops packets cannot hold the call past its deadline.
    /// </summary>
    public static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(10);

    /// <summary>How long a host left at the deadline gets to acknowledge the stop (it did not answer until then).</summary>
    private static readonly TimeSpan DeadlineStopWait = TimeSpan.FromSeconds(5);

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
            var reply = await InvokeAsync(runspace, RemoteModuleCheck.Script, [localVersion.ToString(), select], null, _ => { }, () => StopWait, cancellation).ConfigureAwait(false);
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
    /// <param name="limit">With -Deadline: the host's part is left after this long (<see cref="DeadlineGrace"/> included).</param>
    public static async Task<bool> RunAsync(PSSession session, Version localVersion, Func<RemoteCall?> call, IRecordSink sink, int activityId,
        CancellationToken cancellation, HostCheck? checkedBefore = null, TimeSpan? limit = null)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (limit is { } l)
        {
            bounded.CancelAfter(l);
        }

        var stopWait = () => cancellation.IsCancellationRequested ? StopWait : DeadlineStopWait;
        var leftAtDeadline = () => !cancellation.IsCancellationRequested && bounded.IsCancellationRequested;
        var check = checkedBefore ?? await CheckAsync(session, localVersion, null, bounded.Token).ConfigureAwait(false);
        if (check.Stopped && leftAtDeadline())
        {
            sink.Error(RemoteErrors.NoAnswer(session.ComputerName, limit!.Value - DeadlineGrace, DeadlineGrace, new OperationCanceledException()));
            return false;
        }

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
                stopWait, bounded.Token).ConfigureAwait(false);
            return clean;
        }
#pragma warning disable CA1031 // The last resort of one host's task: whatever it is becomes that host's error, never an escape.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if ((ex is PipelineStoppedException or OperationCanceledException) && leftAtDeadline())
            {
                // Stopped from here at the deadline: the host did not answer in time, which is its error.
                sink.Error(RemoteErrors.NoAnswer(host, limit!.Value - DeadlineGrace, DeadlineGrace, ex));
            }
            else if (Failure(ex, host, runspace.InstanceId) is { } error)
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
        Action<PSObject>? onOutput, Action<ErrorRecord> onError, Func<TimeSpan> stopWait, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();

        // Disposed below once the pipeline has ended, never while it runs: disposing a running remote pipeline stops
        // it synchronously, waiting for the host to acknowledge, which a hung host never does.
        var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript(script);
        foreach (var argument in arguments)
        {
            ps.AddArgument(argument);
        }

        var kept = new List<PSObject>();
        var gate = new object();
        var output = new PSDataCollection<PSObject>();
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

        IAsyncResult started;
        try
        {
            started = ps.BeginInvoke<PSObject, PSObject>(null, output);
        }
        catch
        {
            output.Dispose();
            ps.Dispose();
            throw;
        }

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
        _ = ended.ContinueWith(_ =>
        {
            output.Dispose();
            ps.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

        // Once stopped, the host gets a bounded time to end its part (a dead link or a hung host must not hold Ctrl+C
        // or a deadline forever): then it is left, its pipeline disposed whenever (if ever) it ends.
        var leave = Task.Delay(Timeout.Infinite, cancellation)
            .ContinueWith(_ => Task.Delay(stopWait()), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        if (await Task.WhenAny(ended, leave).ConfigureAwait(false) != ended)
        {
            throw new OperationCanceledException(cancellation);
        }

        await ended.ConfigureAwait(false);
        lock (gate)
        {
            return [.. kept];
        }
    }
}

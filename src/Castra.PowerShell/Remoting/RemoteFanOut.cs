using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// A Castra cmdlet on many hosts at once, through the PSSessions the caller opened (New-PSSession -HostName ...): one
/// task per host, all started together, each host's records streamed to its sink as they arrive, one host's failure
/// only that host's error. The remoting API is used directly rather than a nested Invoke-Command: a nested pipeline
/// must run synchronously on the caller's pipeline thread, which then could not write anything until every host was
/// done, and Invoke-Command would turn a host's failures into records we would have to pick apart again.
/// </summary>
internal static class RemoteFanOut
{
    /// <summary>
    /// How long a host gets to answer the module check when the cmdlet waits for it (-AsJob): the job must be returned
    /// even when a host hangs. Generous: the check imports the module there, which a busy host may take seconds to do.
    /// </summary>
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A session given twice runs once; each remaining session is a host of the call, in the caller's order.</summary>
    public static IReadOnlyList<PSSession> Distinct(IEnumerable<PSSession> sessions) =>
        [.. sessions.Where(s => s is not null).GroupBy(s => s.InstanceId).Select(g => g.First())];

    /// <summary>This session's Castra version: what every host must have.</summary>
    public static Version LocalVersion(PSCmdlet cmdlet)
    {
        if (cmdlet.MyInvocation.MyCommand.Module?.Version is { } module)
        {
            return module;
        }

        // Loaded without its manifest: the assembly's version, in the manifest's three parts.
        var assembly = typeof(RemoteFanOut).Assembly.GetName().Version ?? new Version(0, 0, 0);
        return new Version(assembly.Major, assembly.Minor, Math.Max(assembly.Build, 0));
    }

    /// <summary>Starts every host's part at once; the tasks never fault (each failure is a record in that host's sink).</summary>
    /// <returns>Per host, in the sessions' order: whether it ran to the end without an error.</returns>
    /// <param name="limit">With -Deadline: each host's part is left after this long (RemoteHostRun.RunAsync).</param>
    /// <param name="callFor">The call for a host, made when that host is ready to run it; null when the host must not
    /// run (it then reports why to the sink it is given).</param>
    public static IReadOnlyList<Task<bool>> StartEach(IReadOnlyList<PSSession> sessions, Version version, Func<PSSession, IRecordSink, RemoteCall?> callFor,
        Func<PSSession, IRecordSink> sinkFor, Func<PSSession, CancellationToken> cancellationFor, Func<PSSession, HostCheck?>? checkedFor = null,
        TimeSpan? limit = null) =>
        [.. sessions.Select((session, index) =>
        {
            var sink = sinkFor(session);
            return Task.Run(() => RemoteHostRun.RunAsync(session, version, () => callFor(session, sink), sink, index + 1, cancellationFor(session),
                checkedFor?.Invoke(session), limit));
        })];

    /// <summary>
    /// The module check of every host at once, each also naming the VMs its call will work on (-AsJob: its per-VM child
    /// jobs exist before anything runs). Waits on the pipeline thread; never throws (a host's trouble is its refusal).
    /// </summary>
    /// <param name="selectFor">Per host, the names (null: every VM) and -StateRoot of its call (<see cref="RemoteModuleCheck.Select"/>).</param>
    public static IReadOnlyList<HostCheck> CheckEach(IReadOnlyList<PSSession> sessions, Version version, Func<PSSession, System.Collections.Hashtable> selectFor,
        CancellationToken cancellation)
    {
        var checks = sessions.Select(s => Task.Run(() => CheckBoundedAsync(s, version, selectFor(s), cancellation))).ToArray();
        return Task.WhenAll(checks).GetAwaiter().GetResult();
    }

    private static async Task<HostCheck> CheckBoundedAsync(PSSession session, Version version, System.Collections.Hashtable select, CancellationToken cancellation)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(CheckTimeout);
        var check = await RemoteHostRun.CheckAsync(session, version, select, bounded.Token).ConfigureAwait(false);

        // Stopped by the bound, not by the caller: the host did not answer, and its job says so.
        return check.Stopped && !cancellation.IsCancellationRequested
            ? new HostCheck(RemoteErrors.Unreachable(session.ComputerName, $"it did not answer the module check within {CheckTimeout.TotalSeconds:0} s"), [])
            : check;
    }

    /// <summary>
    /// On the pipeline thread: runs the hosts' parts and writes their records to <paramref name="target"/> as they
    /// arrive (Ctrl+C stops every host's part).
    /// </summary>
    public static void RunHere(IReadOnlyList<PSSession> sessions, Version version, Func<PSSession, IRecordSink, RemoteCall?> callFor,
        IRecordSink target, Action<Task> track, CancellationToken cancellation, TimeSpan? limit = null)
    {
        var queue = new QueuedSink();
        var work = Task.WhenAll(StartEach(sessions, version, callFor, _ => queue, _ => cancellation, limit: limit));
        track(work);
        _ = work.ContinueWith(_ => queue.Complete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        queue.Drain(target, cancellation);
    }
}

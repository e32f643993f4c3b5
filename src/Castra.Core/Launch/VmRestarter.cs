using System.Diagnostics;
using Castra.Errors;
using Castra.Events;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Launch;

/// <summary>
/// Restart-CastraVm / castra restart: each VM's whole normal shutdown (the engine's plan, its events), then a start
/// from the definition vm.json records, reported as a <see cref="StartedEvent"/> in the same stream. VMs run
/// concurrently; each starts as soon as its own shutdown is done. A VM whose recorded launch cannot be used is
/// refused before anything is done to it: a restart never leaves a running VM stopped because it could not start it.
/// </summary>
public sealed class VmRestarter
{
    public VmRestarter(StateRoot root, Text.Wording? wording = null)
    {
        Root = root;
        Wording = wording ?? Text.Wording.Neutral;
    }

    public StateRoot Root { get; }

    public Text.Wording Wording { get; }

    /// <summary>Restarts the named VMs (duplicates ignored); events and diagnostics go to <paramref name="observer"/>. One result per VM, in the order given.</summary>
    /// <exception cref="CastraException">Invalid options (nothing was done).</exception>
    public async Task<IReadOnlyList<VmRestartResult>> RestartAsync(IEnumerable<string> vmNames, ShutdownOptions options, IShutdownObserver observer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vmNames);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        options.Validate();

        var names = vmNames.Distinct(StringComparer.Ordinal).ToList();
        var results = new Task<VmRestartResult>[names.Count];
        var runs = new List<(int Slot, VmRun Run, RunTracker Tracker, LaunchOptions Launch)>();
        for (var slot = 0; slot < names.Count; slot++)
        {
            var name = names[slot];
            LaunchOptions launch;
            try
            {
                launch = RecordedLaunch.Read(Root, name, null, Wording);
            }
            catch (CastraException ex)
            {
                observer.OnDiagnostic(new ShutdownDiagnostic(name, DiagnosticSeverity.Error, ex.ErrorId, ex.Category, $"VM '{name}' was not restarted (nothing was done to it): {ex.Message}"));
                results[slot] = Task.FromResult(new VmRestartResult(name, null, false, ex.ErrorId, ex.Message));
                continue;
            }

            var tracker = new RunTracker(observer);
            runs.Add((slot, new VmRun(name, tracker, cancellationToken), tracker, launch));
        }

        if (runs.Count > 0)
        {
            var launcher = new VmLauncher(Root, Wording);
            var stops = new ShutdownEngine(Root).StartEach(runs.Select(r => r.Run).ToList(), options);
            for (var i = 0; i < runs.Count; i++)
            {
                results[runs[i].Slot] = StartAfterAsync(stops[i], runs[i].Run.VmName, runs[i].Tracker, runs[i].Launch, launcher, observer, cancellationToken);
            }
        }

        return await Task.WhenAll(results).ConfigureAwait(false);
    }

    private async Task<VmRestartResult> StartAfterAsync(Task<VmShutdownResult> stop, string name, RunTracker tracker, LaunchOptions launch,
        VmLauncher launcher, IShutdownObserver observer, CancellationToken cancellationToken)
    {
        var stopped = await stop.ConfigureAwait(false);
        if (!stopped.Stopped || cancellationToken.IsCancellationRequested)
        {
            // The shutdown's own events and errors say why; a VM still running (or in doubt) is not started twice.
            return new VmRestartResult(name, stopped.Outcome, false, stopped.ErrorId, stopped.Message);
        }

        var clock = Stopwatch.StartNew();
        VmInfo started;
        try
        {
            started = await launcher.StartAsync(name, launch, cancellationToken).ConfigureAwait(false);
        }
        catch (CastraException ex)
        {
            observer.OnDiagnostic(new ShutdownDiagnostic(name, DiagnosticSeverity.Error, ex.ErrorId, ex.Category, $"VM '{name}' stopped ({stopped.Outcome}) but did not start again: {ex.Message}"));
            return new VmRestartResult(name, stopped.Outcome, false, ex.ErrorId, ex.Message);
        }
        catch (OperationCanceledException)
        {
            return new VmRestartResult(name, stopped.Outcome, false, ErrorIds.ShutdownCancelled, "cancelled while starting");
        }

        observer.OnEvent(new StartedEvent
        {
            VmName = name,
            ShutdownId = tracker.ShutdownId,
            Sequence = tracker.LastSequence + 1,
            Timestamp = DateTime.UtcNow,
            StateRoot = Root.Path,
            Pid = started.Pid,
            StartMs = clock.ElapsedMilliseconds,
        });
        return new VmRestartResult(name, stopped.Outcome, true);
    }

    /// <summary>Passes a VM's shutdown through, remembering its run id and last sequence for the Started event.</summary>
    private sealed class RunTracker(IShutdownObserver inner) : IShutdownObserver
    {
        private volatile string _shutdownId = "";
        private volatile int _lastSequence;

        public string ShutdownId => _shutdownId;

        public int LastSequence => _lastSequence;

        public void OnEvent(ShutdownEvent evt)
        {
            _shutdownId = evt.ShutdownId;
            _lastSequence = evt.Sequence;
            inner.OnEvent(evt);
        }

        public void OnDiagnostic(ShutdownDiagnostic diagnostic) => inner.OnDiagnostic(diagnostic);
    }
}

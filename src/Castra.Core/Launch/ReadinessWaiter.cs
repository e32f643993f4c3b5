using System.Diagnostics;
using Castra.Errors;
using Castra.Processes;
using Castra.Qmp;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Launch;

/// <summary>
/// Wait-CastraVm / castra wait: waits until each VM is ready to cooperate with a shutdown: its proven QEMU answers
/// QMP with the run state <c>running</c>; where it has a guest agent channel (qga.sock), the agent answers
/// guest-sync and guest-ping; and, when asked, a marker has appeared on its serial console. QEMU announces none of
/// this, so each VM still waiting is looked at every <see cref="ReadinessOptions.PollInterval"/> by an async poll (a
/// timer between looks, no thread per VM), each look bounded by <see cref="ReadinessOptions.CheckTimeout"/>; the whole
/// wait by <see cref="ReadinessOptions.Timeout"/>.
/// Nothing is written or signalled. Whatever a guest answers is at worst "not ready", with what it said.
/// </summary>
public sealed class ReadinessWaiter
{
    /// <summary>Less time than this left: a new look could not finish (a QMP handshake alone takes a few ms); the wait ends.</summary>
    private static readonly TimeSpan MinimumLook = TimeSpan.FromMilliseconds(50);

    public ReadinessWaiter(StateRoot root) => Root = root;

    public StateRoot Root { get; }

    /// <summary>
    /// One result per VM (duplicates ignored), in the order given. A VM that does not exist (or whose directory is
    /// refused) comes back with its error and no readiness.
    /// </summary>
    /// <exception cref="CastraException">Invalid options.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<IReadOnlyList<ReadinessResult>> WaitAsync(IEnumerable<string> vmNames, ReadinessOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vmNames);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var waits = vmNames.Distinct(StringComparer.Ordinal).Select(n => new VmWait(n, options.Marker)).ToList();
        foreach (var wait in waits)
        {
            try
            {
                wait.Vm = Root.Vm(wait.Name);
            }
            catch (CastraException ex)
            {
                wait.Error = ex;
            }
        }

        // One async poll per VM (no thread of its own: it sleeps on a timer between looks), so a VM whose looks take
        // their whole bound never delays another VM's next look.
        await Task.WhenAll(waits.Where(w => w.Pending).Select(w => PollAsync(w, options, clock, cancellationToken))).ConfigureAwait(false);

        var elapsed = (long)clock.Elapsed.TotalMilliseconds;
        return waits.Select(w => w.Result(Root, options, elapsed)).ToList();
    }

    private static async Task PollAsync(VmWait wait, ReadinessOptions options, Stopwatch clock, CancellationToken cancellationToken)
    {
        while (wait.Pending)
        {
            var left = options.Timeout - clock.Elapsed;
            if (left < MinimumLook && wait.Looked)
            {
                return;
            }

            await wait.LookAsync(SocketSteps.Clamp(left < options.CheckTimeout ? left : options.CheckTimeout), clock, cancellationToken).ConfigureAwait(false);
            left = options.Timeout - clock.Elapsed;
            if (!wait.Pending || left <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(left < options.PollInterval ? left : options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One VM's wait: its last look and, once ready, when.</summary>
    private sealed class VmWait(string name, string? marker)
    {
        private readonly SerialMarkerScan? _marker = marker is null ? null : new SerialMarkerScan(marker);
        private bool _agent;
        private bool _looked;

        public string Name { get; } = name;

        public VmPaths? Vm { get; set; }

        public CastraException? Error { get; set; }

        public long? ReadyMs { get; private set; }

        public string? Detail { get; private set; } = "not looked at yet";

        public bool Pending => Error is null && ReadyMs is null;

        public bool Looked => _looked;

        public async Task LookAsync(TimeSpan bound, Stopwatch clock, CancellationToken cancellationToken)
        {
            using var look = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            look.CancelAfter(bound);
            try
            {
                Detail = await MissingAsync(look.Token).ConfigureAwait(false);
                _looked = true;
                if (Detail is null)
                {
                    ReadyMs = (long)clock.Elapsed.TotalMilliseconds;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A look cut short by the end of the wait says less than the last whole look did: keep that one's finding.
                if (!_looked)
                {
                    Detail = $"no look finished within {bound.TotalMilliseconds:0} ms";
                }

                return;
            }
            catch (CastraException ex) when (ex.ErrorId is ErrorIds.VmNotFound or ErrorIds.InvalidVmName)
            {
                Error = ex;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Guest-written replies, a damaged directory, a socket gone mid-look: not ready, and why.
                Detail = ex.Message;
                _looked = true;
            }
        }

        /// <summary>Null when ready; else the first thing missing.</summary>
        private async Task<string?> MissingAsync(CancellationToken cancellationToken)
        {
            VmDirectory? opened;
            try
            {
                opened = VmDirectory.TryOpen(Vm!);
            }
            catch (IOException ex)
            {
                throw StateFileError.For(Vm!, ex);
            }

            using var dir = opened ?? throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound,
                $"No VM named '{Name}' under {Vm!.Root.Path}.") { Target = Name };
            // Identity can still be proven from the command line.
            var definition = VmDefinitionStore.ReadOrNull(dir);

            var located = await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, cancellationToken).ConfigureAwait(false);
            using var process = located.Process;
            if (located.Verdict != IdentityVerdict.Verified || process is null)
            {
                return located.Verdict is null ? "QEMU is not running" : $"QEMU is not proven to be running: {located.Detail}";
            }

            var bound = QmpTimeouts.Default;
            await using (var qmp = await QmpClient.ConnectAsync(ChannelProbe.Target(dir, VmDirectory.QmpSocketName, Vm!.QmpSocket, process), bound, cancellationToken).ConfigureAwait(false))
            {
                var status = await qmp.QueryStatusAsync(bound.Reply, cancellationToken).ConfigureAwait(false);
                if (status != "running")
                {
                    return $"the guest is {status}, not running";
                }
            }

            var agentEntry = dir.Files.Stat(VmDirectory.AgentSocketName);
            _agent = agentEntry is not null;
            if (agentEntry is { IsSocket: false })
            {
                return $"{Vm.AgentSocket} is not a socket";
            }

            if (_agent)
            {
                await using var agent = await GuestAgentClient.ConnectAndSyncAsync(ChannelProbe.Target(dir, VmDirectory.AgentSocketName, Vm.AgentSocket, process), bound.Reply, cancellationToken).ConfigureAwait(false);
                await agent.PingAsync(bound.Reply, cancellationToken).ConfigureAwait(false);
            }

            if (_marker is not null && !_marker.Look(dir.Files, located.Pid ?? 0))
            {
                return $"the marker '{marker}' has not appeared on the serial console yet";
            }

            return null;
        }

        public ReadinessResult Result(StateRoot root, ReadinessOptions options, long elapsedMs)
        {
            if (Error is not null)
            {
                return new ReadinessResult(null, Error);
            }

            var waitedFor = "QMP running" + (_agent ? ", guest agent ping" : "") + (options.Marker is { } m ? $", marker '{m}'" : "");
            var readiness = new VmReadiness
            {
                Name = Name,
                Ready = ReadyMs is not null,
                Ms = ReadyMs ?? elapsedMs,
                WaitedFor = waitedFor,
                Detail = ReadyMs is null ? Detail : null,
                StateRoot = root.Path,
            };
            return new ReadinessResult(readiness, ReadyMs is null
                ? new CastraException(ErrorIds.VmNotReady, CastraErrorCategory.OperationTimeout,
                    $"VM '{Name}' was not ready within {options.Timeout.TotalSeconds:0.###} s: {Detail}.") { Target = Name }
                : null);
        }
    }
}

/// <summary>One VM's answer: its readiness (absent when the VM could not be looked at), and the error to report, if any.</summary>
public sealed record ReadinessResult(VmReadiness? Readiness, CastraException? Error);

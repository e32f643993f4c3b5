using Castra.Processes;
using Castra.Qmp;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// The pre-flight look at a VM's cooperative channels, shared by the shutdown itself and by its plan (-WhatIf,
/// --dry-run): QMP (reachable? guest running?) and the guest agent (answering a sync within the probe timeout?).
/// Read-only: it sends query-status and guest-sync, nothing that changes the guest. Owns the clients it opened.
/// </summary>
internal sealed class ChannelProbe : IAsyncDisposable
{
    private ChannelProbe(VmPaths vm, Text.Wording wording)
    {
        Vm = vm;
        Wording = wording;
    }

    /// <summary>How the calling face spells the options the hints name.</summary>
    public Text.Wording Wording { get; }

    public VmPaths Vm { get; }

    public bool QmpPresent { get; private set; }

    public QmpClient? Qmp { get; private set; }

    public QmpException? QmpError { get; private set; }

    /// <summary>query-status's answer (running, paused, …), when QMP answered.</summary>
    public string? GuestStatus { get; private set; }

    public bool AgentPresent { get; private set; }

    public GuestAgentClient? Agent { get; private set; }

    /// <summary>Why the agent is unusable (its probe failed), when it was probed.</summary>
    public QmpException? AgentError { get; private set; }

    public string? AgentProblem => AgentError?.Message;

    /// <param name="dir">The VM's open directory: sockets are reached through it, never by re-walking the path.</param>
    /// <param name="qemu">The VM's proven QEMU: each connection's peer must be that process before anything it says is read.</param>
    /// <param name="remainingTime">What is left of the cooperative window; every step is capped by it.</param>
    public static async Task<ChannelProbe> RunAsync(VmDirectory dir, TrackedProcess qemu, ShutdownOptions options, Func<TimeSpan> remainingTime, CancellationToken cancellationToken)
    {
        // Callers may hand in a window already spent (a negative span): every bound below is then zero, not an error.
        TimeSpan Remaining() => SocketSteps.Clamp(remainingTime());
        var vm = dir.Paths;
        var qmpEntry = dir.Files.Stat(VmDirectory.QmpSocketName);
        var agentEntry = dir.Files.Stat(VmDirectory.AgentSocketName);
        var probe = new ChannelProbe(vm, options.Wording) { QmpPresent = qmpEntry is not null, AgentPresent = agentEntry is not null };
        if (qmpEntry is { IsSocket: false })
        {
            probe.QmpError = NotASocket(vm.QmpSocket);
        }

        if (agentEntry is { IsSocket: false })
        {
            probe.AgentError = NotASocket(vm.AgentSocket);
        }

        // Each step has its own bound; the window bounds them all together, so a slow handshake cannot overrun it.
        var outer = cancellationToken;
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(Remaining());
        cancellationToken = window.Token;
        try
        {
            if (probe.QmpPresent && probe.QmpError is null)
            {
                try
                {
                    // A window already spent fails here, deterministically: CancelAfter(0) fires on a timer thread, later.
                    window.Token.ThrowIfCancellationRequested();
                    if (Remaining() <= TimeSpan.Zero)
                    {
                        throw new OperationCanceledException(window.Token);
                    }

                    probe.Qmp = await QmpClient.ConnectAsync(Target(dir, VmDirectory.QmpSocketName, vm.QmpSocket, qemu), options.Qmp.CappedTo(Remaining()), cancellationToken).ConfigureAwait(false);
                    probe.GuestStatus = await probe.Qmp.QueryStatusAsync(options.Qmp.CappedTo(Remaining()).Reply, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is QmpException || (ex is OperationCanceledException && !outer.IsCancellationRequested))
                {
                    probe.QmpError = ex as QmpException ?? new QmpException(QmpErrorKind.ReplyTimeout, "the cooperative window ran out during the QMP handshake");
                    await probe.DisposeQmpAsync().ConfigureAwait(false);
                }
            }

            var guestCanAct = probe.GuestStatus is null or "running";
            if (options.Method != CooperativeMethod.Acpi && probe.AgentPresent && probe.AgentError is null && guestCanAct)
            {
                try
                {
                    var left = Remaining();
                    if (left <= TimeSpan.Zero)
                    {
                        throw new OperationCanceledException(window.Token);
                    }

                    probe.Agent = await GuestAgentClient.ConnectAndSyncAsync(Target(dir, VmDirectory.AgentSocketName, vm.AgentSocket, qemu), options.AgentProbeTimeout < left ? options.AgentProbeTimeout : left, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is QmpException || (ex is OperationCanceledException && !outer.IsCancellationRequested))
                {
                    probe.AgentError = ex as QmpException ?? new QmpException(QmpErrorKind.ReplyTimeout, "the cooperative window ran out while probing the guest agent");
                }
            }

            return probe;
        }
        catch
        {
            await probe.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reached through the open directory; the peer must be the proven QEMU.</summary>
    internal static ChannelTarget Target(VmDirectory dir, string name, string displayPath, TrackedProcess qemu) =>
        new(dir.SocketPath(name), displayPath)
        {
            VerifyPeer = socket => PeerIdentity.Check(socket, qemu) is { Served: false } refused ? refused.Detail : null,
        };

    private static QmpException NotASocket(string path) =>
        new(QmpErrorKind.NotASocket, $"{path} is not a socket (a link or another kind of file): refused, never followed");

    public ChannelDecision Decide(CooperativeMethod method)
    {
        if (GuestStatus is { } status && status != "running")
        {
            var detail = $"guest is {status}";
            return new ChannelDecision(CooperativeChannel.Unavailable, CooperativeFailureReason.ChannelUnavailable, detail,
                $"a {status} guest cannot react: resume it (QMP 'cont') before shutting down to let it stop cleanly; Castra escalates to signals",
                AttemptDetail: detail);
        }

        if (method == CooperativeMethod.Agent && Agent is null)
        {
            return AgentPresent
                ? new ChannelDecision(CooperativeChannel.Agent, CooperativeFailureReason.ChannelError, AgentProblem, Remediation.ForAgent(AgentError?.Kind ?? QmpErrorKind.ReplyTimeout))
                : new ChannelDecision(CooperativeChannel.Unavailable, CooperativeFailureReason.ChannelUnavailable, $"no guest agent socket at {Vm.AgentSocket}", Remediation.NoAgentSocket(Vm, Wording));
        }

        if (Agent is not null)
        {
            return new ChannelDecision(CooperativeChannel.Agent, AgentMayHandOverToAcpi: Qmp is not null && method == CooperativeMethod.Auto);
        }

        if (Qmp is null)
        {
            return QmpPresent
                ? new ChannelDecision(CooperativeChannel.Acpi, CooperativeFailureReason.ChannelError, QmpError!.Message, Remediation.For(QmpError.Kind, Vm, Wording))
                : new ChannelDecision(CooperativeChannel.Unavailable, CooperativeFailureReason.ChannelUnavailable, $"no QMP socket at {Vm.QmpSocket}", Remediation.NoQmpSocket(Vm),
                    AttemptDetail: AgentProblem is null ? null : $"guest agent unusable: {AgentProblem}");
        }

        return new ChannelDecision(CooperativeChannel.Acpi, AttemptDetail: AgentProblem is null ? null : $"guest agent unusable ({AgentProblem}); using ACPI");
    }

    public async ValueTask DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync().ConfigureAwait(false);
            Agent = null;
        }

        await DisposeQmpAsync().ConfigureAwait(false);
    }

    private async Task DisposeQmpAsync()
    {
        if (Qmp is not null)
        {
            await Qmp.DisposeAsync().ConfigureAwait(false);
            Qmp = null;
        }
    }
}

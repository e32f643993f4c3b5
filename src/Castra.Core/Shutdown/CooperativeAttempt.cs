using System.Diagnostics;
using System.Globalization;
using Castra.Events;
using Castra.Processes;
using Castra.Qmp;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>
/// Asks the guest to power itself off and waits, all inside one window (pre-flight, delivery and waiting):
/// pre-flight through QMP (a paused guest cannot cooperate), then the guest agent (Auto: only if it answers a
/// sync within a second) or the ACPI power button, pressed again every <see cref="ShutdownOptions.AcpiResendInterval"/>.
/// An agent that fails mid-way hands over to ACPI within the same window. Emits CooperativeAttempted (twice on
/// such a hand-over) then CooperativeSucceeded or CooperativeTimedOut.
/// </summary>
internal sealed class CooperativeAttempt
{
    private static readonly TimeSpan AgentCloseGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan EventDrainGrace = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan TimerTolerance = TimeSpan.FromMilliseconds(20);

    /// <summary>Room for Castra's own wording, a socket path (≤ 107 bytes) and a quoted excerpt (≤ 120 characters) twice over.</summary>
    private const int MaxDetailChars = 600;

    private readonly VmDirectory _dir;
    private readonly VmPaths _vm;
    private readonly ShutdownOptions _options;
    private readonly TimeSpan _window;
    private readonly EventRecorder _recorder;
    private readonly long _start = Stopwatch.GetTimestamp();

    public CooperativeAttempt(VmDirectory dir, ShutdownOptions options, TimeSpan window, EventRecorder recorder)
    {
        _dir = dir;
        _vm = dir.Paths;
        _options = options;
        _window = window;
        _recorder = recorder;
    }

    /// <summary>A request reached the guest (so the shutdown changed something even if it then timed out).</summary>
    public bool Delivered { get; private set; }

    private long WindowMs => Ms(_window);

    private TimeSpan Remaining
    {
        get
        {
            var left = _window - Stopwatch.GetElapsedTime(_start);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>True when the guest powered off within the window.</summary>
    public async Task<bool> RunAsync(TrackedProcess process, CancellationToken cancellationToken)
    {
        if (_options.Force)
        {
            Attempted(CooperativeChannel.None, 0);
            return TimedOut(0, CooperativeFailureReason.Skipped, $"the cooperative step was skipped ({_options.Wording.Name(Text.Term.TurnOff)}): going straight to SIGTERM", null);
        }

        await using var probe = await ChannelProbe.RunAsync(_dir, process, _options, () => Remaining, cancellationToken).ConfigureAwait(false);
        var decision = probe.Decide(_options.Method);
        if (!decision.Proceeds)
        {
            if (decision.Failure == CooperativeFailureReason.ChannelError && decision.Channel == CooperativeChannel.Acpi && process.HasExited)
            {
                // It went down while we were knocking (e.g. it was already powering off): no signal needed.
                Attempted(CooperativeChannel.Acpi, WindowMs, $"QEMU exited during the QMP exchange ({decision.FailureDetail})");
                return Succeeded(CooperativeChannel.Acpi, null);
            }

            var announced = decision.Channel == CooperativeChannel.Unavailable ? 0 : WindowMs;
            Attempted(decision.Channel, announced, decision.AttemptDetail);
            return TimedOut(announced, decision.Failure!.Value, decision.FailureDetail, decision.Hint);
        }

        if (decision.Channel == CooperativeChannel.Agent)
        {
            var outcome = await AgentAsync(probe.Agent!, probe.Qmp, process, decision.AgentMayHandOverToAcpi, cancellationToken).ConfigureAwait(false);
            if (outcome is not null)
            {
                return outcome.Value;
            }

            // The agent failed mid-way: ACPI within what is left of the window (already announced).
            return await AcpiAsync(probe.Qmp!, process, cancellationToken).ConfigureAwait(false);
        }

        Attempted(CooperativeChannel.Acpi, WindowMs, decision.AttemptDetail);
        return await AcpiAsync(probe.Qmp!, process, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True/false when decided; null when the agent failed and ACPI should take over (already announced).</summary>
    private async Task<bool?> AgentAsync(GuestAgentClient agent, QmpClient? qmp, TrackedProcess process, bool handover, CancellationToken cancellationToken)
    {
        Attempted(CooperativeChannel.Agent, WindowMs);
        QmpException? failure = null;
        try
        {
            await agent.RequestShutdownAsync(cancellationToken).ConfigureAwait(false);
            Delivered = true;
        }
        catch (QmpException ex)
        {
            failure = ex;
        }

        if (failure is null)
        {
            using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var exit = process.WaitForExitAsync(Remaining, watchStop.Token);
            var agentFailure = agent.WatchForFailureAsync(watchStop.Token);
            var first = await Task.WhenAny(exit, agentFailure).ConfigureAwait(false);
            if (first == agentFailure && agentFailure.IsCompletedSuccessfully)
            {
                // The channel closes as the guest powers off too: give QEMU a moment to exit before calling it a failure.
                failure = await agentFailure.ConfigureAwait(false);
                if (await process.WaitForExitAsync(AgentCloseGrace < Remaining ? AgentCloseGrace : Remaining, cancellationToken).ConfigureAwait(false))
                {
                    await watchStop.CancelAsync().ConfigureAwait(false);
                    return await SucceededAsync(CooperativeChannel.Agent, qmp).ConfigureAwait(false);
                }
            }
            else
            {
                var exited = await exit.ConfigureAwait(false);
                await watchStop.CancelAsync().ConfigureAwait(false);
                return exited
                    ? await SucceededAsync(CooperativeChannel.Agent, qmp).ConfigureAwait(false)
                    : TimedOut(WindowMs, CooperativeFailureReason.TimeoutExpired,
                        $"the guest did not power off within {Seconds(_window)} of guest-shutdown", Remediation.GuestIgnoredAgent);
            }

            await watchStop.CancelAsync().ConfigureAwait(false);
        }

        if (handover && Remaining > TimeSpan.Zero)
        {
            Attempted(CooperativeChannel.Acpi, Ms(Remaining), $"{failure.Message}; falling back to the ACPI power button within the same window");
            return null;
        }

        return TimedOut(WindowMs, CooperativeFailureReason.ChannelError, failure.Message, Remediation.ForAgent(failure.Kind));
    }

    private async Task<bool> AcpiAsync(QmpClient qmp, TrackedProcess process, CancellationToken cancellationToken)
    {
        var presses = 0;
        while (true)
        {
            try
            {
                using var reply = await qmp.ExecuteAsync("system_powerdown", _options.Qmp.CappedTo(Remaining).Reply, cancellationToken).ConfigureAwait(false);
                presses++;
                Delivered = true;
            }
            catch (QmpException ex)
            {
                if (process.HasExited || await process.WaitForExitAsync(EventDrainGrace, cancellationToken).ConfigureAwait(false))
                {
                    return await SucceededAsync(CooperativeChannel.Acpi, qmp).ConfigureAwait(false);
                }

                if (presses == 0)
                {
                    return TimedOut(WindowMs, CooperativeFailureReason.ChannelError, ex.Message, Remediation.For(ex.Kind, _vm, _options.Wording));
                }

                // A re-press failed after one got through: keep waiting for the guest within the window.
            }

            // Wait until the next press is due or the window ends. Timers may fire a little early, so slivers
            // below the tolerance count as "time is up" rather than causing an extra press.
            var lastPress = Stopwatch.GetTimestamp();
            while (true)
            {
                var untilNextPress = _options.AcpiResendInterval - Stopwatch.GetElapsedTime(lastPress);
                var wait = untilNextPress < Remaining ? untilNextPress : Remaining;
                if (wait > TimeSpan.Zero && await process.WaitForExitAsync(wait, cancellationToken).ConfigureAwait(false))
                {
                    return await SucceededAsync(CooperativeChannel.Acpi, qmp).ConfigureAwait(false);
                }

                if (process.HasExited)
                {
                    return await SucceededAsync(CooperativeChannel.Acpi, qmp).ConfigureAwait(false);
                }

                if (Remaining <= TimerTolerance)
                {
                    var times = presses == 1 ? "once" : $"{presses.ToString(CultureInfo.InvariantCulture)} times";
                    return TimedOut(WindowMs, CooperativeFailureReason.TimeoutExpired,
                        $"the guest did not power off within {Seconds(_window)} of the ACPI power button (pressed {times})",
                        Remediation.GuestIgnoredPowerButton("the cooperative timeout"));
                }

                if (Stopwatch.GetElapsedTime(lastPress) >= _options.AcpiResendInterval - TimerTolerance)
                {
                    break;
                }
            }
        }
    }

    private async Task<bool> SucceededAsync(CooperativeChannel channel, QmpClient? qmp)
    {
        bool? guestInitiated = null;
        if (qmp is not null)
        {
            // QEMU sends SHUTDOWN just before it exits; the reader may still be delivering it.
            await Task.WhenAny(qmp.Closed, Task.Delay(EventDrainGrace)).ConfigureAwait(false);
            if (qmp.LastShutdown is { } shutdown && ChannelJson.TryGetMember(shutdown.Data, "guest", out var guest))
            {
                guestInitiated = ChannelJson.AsBoolean(guest);
            }
        }

        return Succeeded(channel, guestInitiated);
    }

    private bool Succeeded(CooperativeChannel channel, bool? guestInitiated)
    {
        _recorder.Emit(new CooperativeSucceededEvent
        {
            Method = ContractNames.Of(channel),
            DurationMs = Ms(Stopwatch.GetElapsedTime(_start)),
            GuestInitiated = guestInitiated,
        });
        return true;
    }

    private void Attempted(CooperativeChannel channel, long timeoutMs, string? detail = null) =>
        _recorder.Emit(new CooperativeAttemptedEvent { Method = ContractNames.Of(channel), TimeoutMs = timeoutMs, Detail = OneLine(detail) });

    private bool TimedOut(long timeoutMs, CooperativeFailureReason reason, string? detail, string? hint)
    {
        _recorder.Emit(new CooperativeTimedOutEvent { TimeoutMs = timeoutMs, Reason = ContractNames.Of(reason), Detail = OneLine(detail), Hint = OneLine(hint) });
        return false;
    }

    /// <summary>
    /// The channel clients already quote peer data printably; this is the last guard before a Detail reaches
    /// terminals, journals and the audit line (and a no-op for every message Castra writes itself).
    /// </summary>
    private static string? OneLine(string? text) => text is null ? null : ChannelText.Printable(text, MaxDetailChars);

    private static long Ms(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}

using System.Diagnostics;
using Castra.Launch;
using Castra.Processes;
using Castra.Qmp;
using Castra.State;
using Microsoft.Win32.SafeHandles;

namespace Castra.Shutdown;

/// <summary>
/// Saves a running VM's whole state to its image (<see cref="SavedStateStore"/>) and ends QEMU, within one budget:
/// pause the guest (QMP <c>stop</c>), create the image file in the VM's directory (O_EXCL, O_NOFOLLOW, 0600, owned
/// by the caller), hand its descriptor to QEMU over the QMP socket (SCM_RIGHTS + <c>getfd</c>), <c>migrate</c> to
/// <c>fd:</c> that descriptor, wait for QEMU to report the migration complete, commit the image (flush, record,
/// rename into place), then <c>quit</c> and wait for the proven process to exit. No shell (<c>exec:</c>) and no path
/// is ever handed to QEMU. A failure removes the partial image and resumes the guest (QMP <c>cont</c>).
/// </summary>
internal static class StateSaver
{
    public const string FdName = "castra-save";

    /// <summary>
    /// QEMU's default migration bandwidth cap (32 MiB/s) is meant to spare a network; a local file has none to spare
    /// (a 512 MiB guest would take 16 s). 16 GiB/s is "no cap" while staying well inside what QEMU accepts.
    /// </summary>
    private const long MaxBandwidth = 16L << 30;

    /// <summary>What cleaning up after a failed save (migrate_cancel, cont) may take, on top of the save timeout.</summary>
    public static readonly TimeSpan CleanupGrace = TimeSpan.FromSeconds(2);

    public static async Task<SaveOutcome> RunAsync(RunContext run, TrackedProcess qemu, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var vm = run.Vm;
        var fingerprint = DefinitionFingerprint.Of(run.Definition?.Launch);
        if (fingerprint is null)
        {
            return SaveOutcome.Failed(SaveFailureReason.NotResumable,
                $"{vm.Definition} records no launch (the VM was not started by Castra): a saved image could never be resumed, so none is written", false, false);
        }

        // Castra starts (so resumes) VMs only in directories owned by root or the caller, from a vm.json it wrote.
        if (!run.Dir.Files.OwnerTrusted || run.Definition?.OwnerTrusted != true)
        {
            return SaveOutcome.Failed(SaveFailureReason.NotResumable,
                $"{vm.Directory} or its vm.json is not owned by root or the caller: Castra never starts a VM there, so a saved image could never be resumed, and none is written", false, false);
        }

        var entry = run.Dir.Files.Stat(VmDirectory.QmpSocketName);
        if (entry is not { IsSocket: true })
        {
            return SaveOutcome.Failed(SaveFailureReason.ChannelError,
                entry is null ? $"no QMP socket at {vm.QmpSocket}" : $"{vm.QmpSocket} is not a socket (a link or another kind of file): refused, never followed", false, false);
        }

        var start = Stopwatch.GetTimestamp();
        TimeSpan Left() => SocketSteps.Clamp(timeout - Stopwatch.GetElapsedTime(start));
        var qmpTimeouts = run.Options.Qmp;
        QmpClient? qmp = null;
        SafeFileHandle? partial = null;
        var paused = false;
        var migrating = false;
        try
        {
            qmp = await QmpClient.ConnectAsync(ChannelProbe.Target(run.Dir, VmDirectory.QmpSocketName, vm.QmpSocket, qemu), qmpTimeouts.CappedTo(Left()), cancellationToken).ConfigureAwait(false);
            var reply = qmpTimeouts.Reply;
            var status = await qmp.QueryStatusAsync(Cap(reply, Left()), cancellationToken).ConfigureAwait(false);

            // Set before asking: a stop whose reply is lost may still have paused the guest, and cont is harmless.
            paused = status == "running";
            await qmp.RunAsync("stop", null, Cap(reply, Left()), cancellationToken).ConfigureAwait(false);
            await MigrationWait.EnableEventsAsync(qmp, Cap(reply, Left()), cancellationToken).ConfigureAwait(false);
            await qmp.RunAsync("migrate-set-parameters", w => w.WriteNumber("max-bandwidth", MaxBandwidth), Cap(reply, Left()), cancellationToken).ConfigureAwait(false);

            try
            {
                partial = await StateIo.Shared.RunAsync(() => SavedStateStore.CreatePartial(run.Dir)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return await FailAsync(SaveFailureReason.WriteError, ex.Message).ConfigureAwait(false);
            }

            await qmp.PassFdAsync(FdName, partial, Cap(reply, Left()), cancellationToken).ConfigureAwait(false);
            migrating = true;
            await qmp.RunAsync("migrate", w => w.WriteString("uri", "fd:" + FdName), Cap(reply, Left()), cancellationToken).ConfigureAwait(false);
            var end = await MigrationWait.UntilEndAsync(qmp, Left(), reply, cancellationToken).ConfigureAwait(false);
            if (!end.Completed)
            {
                return end.TimedOut
                    ? await FailAsync(SaveFailureReason.TimeoutExpired, $"QEMU had not finished writing the state after {EventsMs(timeout)} ms (the save timeout)").ConfigureAwait(false)
                    : await FailAsync(SaveFailureReason.MigrationFailed, end.Detail ?? "QEMU reports the migration failed").ConfigureAwait(false);
            }

            migrating = false;
            long size;
            try
            {
                var image = partial;
                size = await StateIo.Shared.RunAsync(() => SavedStateStore.Commit(run.Dir, image, fingerprint, run.ShutdownId)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return await FailAsync(SaveFailureReason.WriteError, ex.Message).ConfigureAwait(false);
            }

            // The image is in place: from here on the VM is saved, whatever QEMU does next.
            try
            {
                await qmp.RunAsync("quit", null, Cap(reply, Left()), cancellationToken).ConfigureAwait(false);
            }
            catch (QmpException ex) when (ex.Kind == QmpErrorKind.Disconnected)
            {
                // QEMU may close the connection before its reply goes out: its exit below is what counts.
            }
            catch (QmpException)
            {
                // Not answered: the process is watched below; if it is still there the signals end it.
            }

            var exited = await qemu.WaitForExitAsync(Left(), cancellationToken).ConfigureAwait(false);
            return new SaveOutcome(true, exited, size, Changed: true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled by the caller: no further signal, but the guest is not left paused mid-save either.
            await FailAsync(SaveFailureReason.ChannelError, "cancelled").ConfigureAwait(false);
            throw;
        }
        catch (QmpException ex)
        {
            // A step cut short because the whole budget ran out is the save timing out, not a broken channel.
            // QEMU answering "no" (a migration blocker, a device that cannot be saved) is the save failing, not the channel.
            var reason = Left() <= TimerSlack && ex.Kind is QmpErrorKind.ReplyTimeout or QmpErrorKind.ConnectTimeout or QmpErrorKind.GreetingTimeout
                ? SaveFailureReason.TimeoutExpired
                : ex.Kind == QmpErrorKind.CommandFailed ? SaveFailureReason.MigrationFailed : SaveFailureReason.ChannelError;
            return await FailAsync(reason, reason == SaveFailureReason.TimeoutExpired ? $"the save timeout ({EventsMs(timeout)} ms) ran out: {ex.Message}" : ex.Message).ConfigureAwait(false);
        }
        finally
        {
            partial?.Dispose();
            if (qmp is not null)
            {
                await qmp.DisposeAsync().ConfigureAwait(false);
            }
        }

        // A failed save leaves no image and, where it paused a running guest, a running guest again.
        async Task<SaveOutcome> FailAsync(SaveFailureReason reason, string detail)
        {
            await StateIo.Shared.RunAsync(() => SavedStateStore.Abandon(run.Dir)).ConfigureAwait(false);
            var resumed = false;
            if (qmp is not null && !qmp.Closed.IsCompleted)
            {
                // Its own bound, not the caller's token: a cancelled save still cancels the migration and resumes the guest.
                using var cleanup = new CancellationTokenSource(CleanupGrace);
                try
                {
                    if (migrating)
                    {
                        await qmp.RunAsync("migrate_cancel", null, CleanupGrace, cleanup.Token).ConfigureAwait(false);
                    }

                    if (paused)
                    {
                        await qmp.RunAsync("cont", null, CleanupGrace, cleanup.Token).ConfigureAwait(false);
                        resumed = true;
                    }
                }
                catch (Exception ex) when (ex is QmpException or OperationCanceledException)
                {
                    detail += $"; resuming the guest failed too ({ex.Message})";
                }
            }

            return SaveOutcome.Failed(reason, detail, resumed, paused);
        }
    }


    /// <summary>
    /// A step capped at what was left of the save timeout can end a hair before it (timers count whole milliseconds):
    /// a QMP wait that ran out with less than this left ran out of the save's budget, not of QEMU's answer.
    /// </summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(5);

    private static TimeSpan Cap(TimeSpan step, TimeSpan left) => step < left ? step : left;

    private static long EventsMs(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);
}

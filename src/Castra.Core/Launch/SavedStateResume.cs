using System.Globalization;
using Castra.Errors;
using Castra.Qmp;
using Castra.State;

namespace Castra.Launch;

/// <summary>
/// The start side of a save (<see cref="Shutdown.StateSaver"/>): every start of a VM goes through
/// <see cref="VmLauncher.StartAsync"/>, which asks <see cref="Decide"/> whether to resume and, once QEMU is up with
/// <c>-incoming defer</c>, <see cref="LoadAsync"/> to load the image. A saved image is never silently discarded: a
/// start whose command line differs from the one it was saved with is refused unless told to discard it.
/// </summary>
internal static class SavedStateResume
{
    public const string FdName = "castra-resume";

    /// <summary>True to resume from the VM's saved image; false to boot afresh (no image, or one discarded on request).</summary>
    /// <exception cref="CastraException">CastraSavedStateMismatch (another definition), CastraUnsafeStateFile (a link, a foreign file).</exception>
    public static bool Decide(VmDirectory dir, string qemu, IReadOnlyList<string> arguments, LaunchOptions options, Text.Wording wording)
    {
        var vm = dir.Paths;
        try
        {
            if (options.DiscardSavedState)
            {
                // unlinkat: whatever is there (a link included) goes, nothing is followed.
                SavedStateStore.Remove(dir);
                return false;
            }

            var record = SavedStateStore.Find(dir);
            if (record is null)
            {
                return false;
            }

            if (record.Fingerprint.Length > 0 && record.Fingerprint == DefinitionFingerprint.Of(qemu, arguments))
            {
                return true;
            }

            var what = record.Fingerprint.Length == 0
                ? $"whose record ({SavedStateStore.RecordName}) is missing or unreadable, so it cannot be matched to this start"
                : string.Create(CultureInfo.InvariantCulture, $"saved {record.SavedAt:u} with a different definition (QEMU, its command line, kernel, disk, memory or devices differ)");
            throw new CastraException(ErrorIds.SavedStateMismatch, CastraErrorCategory.InvalidOperation,
                $"VM '{vm.Name}' has a saved state ({dir.Files.PathOf(SavedStateStore.ImageName)}) {what}: start it with the options it was saved with to resume it, or add {wording.Name(Text.Term.DiscardSavedState)} to discard the saved state and boot afresh.")
            {
                Target = vm.Name,
            };
        }
        catch (IOException ex)
        {
            throw StateFileError.For(vm, ex);
        }
    }

    /// <summary>
    /// Loads the image into the QEMU just started with <c>-incoming defer</c> (its descriptor passed over QMP, never a
    /// path), waits for the load within <see cref="LaunchOptions.ResumeTimeout"/>, removes the image, then lets the
    /// guest run. On failure QEMU is told to quit and the image is kept.
    /// </summary>
    /// <exception cref="CastraException">CastraResumeFailed, or CastraUnsafeStateFile when the image is refused.</exception>
    public static async Task LoadAsync(VmDirectory dir, int pid, LaunchOptions options, Text.Wording wording, CancellationToken cancellationToken)
    {
        var vm = dir.Paths;
        var reply = QmpTimeouts.Default.Reply;
        QmpClient? qmp = null;
        try
        {
            qmp = await QmpClient.ConnectAsync(ChannelTarget.Of(dir.SocketPath(VmDirectory.QmpSocketName)), QmpTimeouts.Default, cancellationToken).ConfigureAwait(false);
            Microsoft.Win32.SafeHandles.SafeFileHandle image;
            try
            {
                image = SavedStateStore.OpenImage(dir);
            }
            catch (IOException ex)
            {
                throw StateFileError.For(vm, ex);
            }

            using (image)
            {
                await MigrationWait.EnableEventsAsync(qmp, reply, cancellationToken).ConfigureAwait(false);
                await qmp.PassFdAsync(FdName, image, reply, cancellationToken).ConfigureAwait(false);
                await qmp.RunAsync("migrate-incoming", w => w.WriteString("uri", "fd:" + FdName), reply, cancellationToken).ConfigureAwait(false);
                var end = await MigrationWait.UntilEndAsync(qmp, options.ResumeTimeout, reply, cancellationToken).ConfigureAwait(false);
                if (!end.Completed)
                {
                    throw new QmpException(QmpErrorKind.CommandFailed, end.TimedOut
                        ? $"loading the saved state did not complete within {options.ResumeTimeout.TotalSeconds:0} s"
                        : end.Detail ?? "QEMU reports loading the saved state failed");
                }
            }

            // The state is loaded and the guest paused: the image goes before the guest runs, so that a later start
            // can never resume a state this guest has since moved on from.
            try
            {
                SavedStateStore.Remove(dir);
            }
            catch (IOException ex)
            {
                throw new QmpException(QmpErrorKind.CommandFailed, $"the state was loaded but the image could not be removed ({ex.Message}), so the guest was not let run");
            }

            if (await qmp.QueryStatusAsync(reply, cancellationToken).ConfigureAwait(false) != "running")
            {
                await qmp.RunAsync("cont", null, reply, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (QmpException ex)
        {
            await QuitQuietlyAsync(qmp).ConfigureAwait(false);
            throw new CastraException(ErrorIds.ResumeFailed, CastraErrorCategory.InvalidOperation,
                $"VM '{vm.Name}' could not be resumed from its saved state (QEMU PID {pid} was told to quit): {ex.Message}. The saved state is kept; add {wording.Name(Text.Term.DiscardSavedState)} to boot afresh instead.", ex)
            {
                Target = vm.Name,
            };
        }
        catch (CastraException)
        {
            await QuitQuietlyAsync(qmp).ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (qmp is not null)
            {
                await qmp.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task QuitQuietlyAsync(QmpClient? qmp)
    {
        if (qmp is null || qmp.Closed.IsCompleted)
        {
            return;
        }

        try
        {
            await qmp.RunAsync("quit", null, TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
        }
        catch (QmpException)
        {
            // It may exit before answering.
        }
    }

}

using System.Globalization;
using System.Text.RegularExpressions;
using Castra.Errors;
using Castra.Events;
using Castra.Launch;
using Castra.Native;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.RealQemu;

/// <summary>
/// Save instead of power off, and save as an escalation step, against real QEMU: the counter guest
/// (castra.mode=counter) ignores the power button and prints CASTRA-COUNT n every ~200 ms, so a resumed guest
/// proves it continued where it was by counting on instead of starting again at 1.
/// </summary>
[Collection(RealQemuGroup.Name)]
public sealed partial class RealQemuSaveTests : IDisposable
{
    private readonly TestStateRoot _root = new();
    private TinyStateRoot? _tiny;

    public void Dispose()
    {
        foreach (var root in new[] { _root.Root, _tiny?.Root }.OfType<StateRoot>())
        {
            foreach (var name in root.ListVmNames())
            {
                var pidFile = root.Vm(name).PidFile;
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
                {
                    Libc.kill(pid, Libc.SIGKILL);
                }
            }
        }

        _tiny?.Dispose();
        _root.Dispose();
    }

    [Fact]
    public async Task Escalation_save_saves_a_guest_that_ignores_acpi_and_the_next_start_counts_on()
    {
        var vm = _root.Vm("counter");
        await StartCountingAsync(_root.Root, "counter");

        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync(["counter"], new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(1),
            Escalation = ShutdownEscalation.Save,
        }, observer);

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "SaveAttempted", "SaveSucceeded", "ShutdownComplete"], observer.TypesFor("counter"));
        Assert.Equal(ShutdownOutcome.Saved, results.Single().Outcome);
        Assert.True(results.Single().Stopped);
        var saved = observer.Events.OfType<SaveSucceededEvent>().Single();
        var image = Path.Combine(vm.Directory, "saved-state.img");
        Assert.Equal(image, saved.Path);
        Assert.Equal(new FileInfo(image).Length, saved.SizeBytes);
        Assert.True(saved.SizeBytes > 1 << 20, $"a whole guest's state, not {saved.SizeBytes} bytes");
        Assert.Equal("Saved", observer.Events.OfType<ShutdownCompleteEvent>().Single().Outcome);
        Assert.False(File.Exists(vm.PidFile));
        Assert.False(File.Exists(Path.Combine(vm.Directory, ".saved-state.img.partial")));
        var audit = AuditTrail.Read(_root.Root)[^1];
        Assert.Equal("Saved", audit.Outcome);
        Assert.Equal("ACPI,Save", audit.Path);
        var info = await VmInventory.DescribeAsync(vm);
        Assert.Equal("Stopped", info.State);
        Assert.True(info.SavedState);
        Assert.True(ShutdownStatusReader.Read(vm)!.SavedState);
        var lastBefore = Counts(RealGuest.SerialLog(vm)).Max();

        // Started again with the same definition: resumed, not booted (no CASTRA-BOOT), counting on.
        var resumed = await new VmLauncher(_root.Root).StartAsync("counter", RealGuest.Options("counter"));
        Assert.Equal("Running", resumed.State);
        Assert.False(resumed.SavedState);
        Assert.False(File.Exists(image));
        await RealGuest.WaitForSerialAsync(vm, "CASTRA-COUNT", TimeSpan.FromSeconds(30));
        var after = RealGuest.SerialLog(vm);
        Assert.DoesNotContain("CASTRA-BOOT", after);
        Assert.True(Counts(after).First() > lastBefore, $"the first count after the resume ({Counts(after).First()}) follows the last before the save ({lastBefore})");
    }

    [Fact]
    public async Task Save_then_a_changed_definition_is_refused_unless_the_saved_state_is_discarded()
    {
        var vm = _root.Vm("keep");
        await StartCountingAsync(_root.Root, "keep");

        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync(["keep"], new ShutdownOptions { Save = true }, observer);

        // -Save: the guest is not asked, not signalled.
        Assert.Equal(["ShutdownRequested", "SaveAttempted", "SaveSucceeded", "ShutdownComplete"], observer.TypesFor("keep"));
        Assert.Equal(ShutdownOutcome.Saved, results.Single().Outcome);
        var image = Path.Combine(vm.Directory, "saved-state.img");
        Assert.True(File.Exists(image));

        // What an interrupted save leaves: a partial image, never taken for a saved state, removed by the next start.
        var partial = Path.Combine(vm.Directory, ".saved-state.img.partial");
        await File.WriteAllTextAsync(partial, "half a guest");

        var changed = RealGuest.Options("counter");
        changed = new LaunchOptions { Kernel = changed.Kernel, Initrd = changed.Initrd, Append = changed.Append, MemoryMB = 160, Accelerator = "tcg" };
        var refused = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(_root.Root).StartAsync("keep", changed));
        Assert.Equal(ErrorIds.SavedStateMismatch, refused.ErrorId);
        Assert.Equal(CastraErrorCategory.InvalidOperation, refused.Category);
        Assert.Equal("keep", refused.Target);
        Assert.True(File.Exists(image), "a refused start keeps the saved state");
        Assert.False(File.Exists(vm.PidFile), "and starts no QEMU");

        // Told to discard it: a fresh boot (counting from 1 again), the image gone.
        var fresh = new LaunchOptions { Kernel = changed.Kernel, Initrd = changed.Initrd, Append = changed.Append, MemoryMB = 160, Accelerator = "tcg", DiscardSavedState = true };
        await new VmLauncher(_root.Root).StartAsync("keep", fresh);
        Assert.False(File.Exists(image));
        Assert.False(File.Exists(partial));
        await RealGuest.WaitForSerialAsync(vm, "CASTRA-COUNT 1", TimeSpan.FromSeconds(90));
        Assert.Contains("CASTRA-BOOT counter", RealGuest.SerialLog(vm));
    }

    [Fact]
    public async Task A_save_that_fills_the_disk_falls_through_to_sigterm_with_the_reason_in_the_events()
    {
        // The state root on a 6 MiB tmpfs: QEMU starts (a pidfile, a socket, a serial log), its state does not fit.
        _tiny = TinyStateRoot.Mount(6 * 1024);
        var vm = _tiny.Root.Vm("full");
        await StartCountingAsync(_tiny.Root, "full");

        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_tiny.Root).StopAsync(["full"], new ShutdownOptions
        {
            CooperativeTimeout = TimeSpan.FromSeconds(1),
            Escalation = ShutdownEscalation.Save,
        }, observer);

        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeTimedOut", "SaveAttempted", "SaveFailed", "Escalation", "ShutdownComplete"], observer.TypesFor("full"));
        var failed = observer.Events.OfType<SaveFailedEvent>().Single();
        Assert.Equal("MigrationFailed", failed.Reason);
        Assert.Contains("space", failed.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.True(failed.GuestResumed);
        Assert.Equal("SIGTERM", observer.Events.OfType<EscalationEvent>().Single().Signal);
        Assert.Equal(ShutdownOutcome.Forced, results.Single().Outcome);
        Assert.False(File.Exists(Path.Combine(vm.Directory, "saved-state.img")));
        Assert.False(File.Exists(Path.Combine(vm.Directory, ".saved-state.img.partial")), "the partial image is removed");
        Assert.Equal("ACPI,Save,SIGTERM", AuditTrail.Read(_tiny.Root)[^1].Path);
    }

    [Fact]
    public async Task A_saved_image_that_is_a_link_is_refused_and_nothing_is_started()
    {
        var vm = _root.Vm("linked");
        Directory.CreateDirectory(vm.Directory);
        var target = Path.Combine(_root.Path, "elsewhere.img");
        await File.WriteAllTextAsync(target, "not a guest");
        File.CreateSymbolicLink(Path.Combine(vm.Directory, "saved-state.img"), target);

        var refused = await Assert.ThrowsAsync<CastraException>(() => new VmLauncher(_root.Root).StartAsync("linked", RealGuest.Options("counter")));

        Assert.Equal(ErrorIds.UnsafeStateFile, refused.ErrorId);
        Assert.Contains("symbolic link", refused.Message);
        Assert.False(File.Exists(vm.PidFile));
        Assert.Equal("not a guest", await File.ReadAllTextAsync(target));
    }

    private static async Task StartCountingAsync(StateRoot root, string name)
    {
        await new VmLauncher(root).StartAsync(name, RealGuest.Options("counter"));
        await RealGuest.WaitForSerialAsync(root.Vm(name), "CASTRA-COUNT 3", TimeSpan.FromSeconds(90));
    }

    private static List<int> Counts(string log) =>
        CountLine().Matches(log).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();

    [GeneratedRegex(@"CASTRA-COUNT (\d+)")]
    private static partial Regex CountLine();
}

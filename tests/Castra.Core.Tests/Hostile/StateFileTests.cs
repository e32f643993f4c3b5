using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Castra.Errors;
using Castra.Events;
using Castra.Hooks;
using Castra.Shutdown;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Hostile;

/// <summary>
/// The state root as an attacker who owns a VM directory, or bad luck, leaves it: links to files outside the root,
/// FIFOs, devices, hard links, another user's files, huge and mistyped files. Each case asserts that nothing
/// outside the state root was written, that the run ended within its bounds, and what was recorded.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StateFileTests : IDisposable
{
    /// <summary>Far above any path here: a hang fails the test instead of the whole run.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly TestStateRoot _root = new();
    private readonly string _outside = Path.Combine("/tmp", "castra-outside-" + Guid.NewGuid().ToString("N")[..8]);

    public StateFileTests() => Directory.CreateDirectory(_outside);

    public void Dispose()
    {
        _root.Dispose();
        Directory.Delete(_outside, recursive: true);
    }

    private async Task<(RecordingObserver Observer, VmShutdownResult Result)> StopAsync(string name, ShutdownOptions? options = null)
    {
        var observer = new RecordingObserver();
        var results = await new ShutdownEngine(_root.Root).StopAsync([name], options ?? new ShutdownOptions { CooperativeTimeout = TimeSpan.FromSeconds(10) }, observer).WaitAsync(Bound);
        return (observer, results.Single());
    }

    /// <summary>A file outside the state root that a planted link points at.</summary>
    private string Victim(string name, string content = "precious\n")
    {
        var path = Path.Combine(_outside, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static void AssertUntouched(string victim, string content = "precious\n") =>
        Assert.Equal(content, File.ReadAllText(victim));

    private static void AssertPrivate(string path, UnixFileMode mode) =>
        Assert.Equal(mode, File.GetUnixFileMode(path) & (UnixFileMode)0x1FF);

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Theory]
    [InlineData("events.ndjson")]
    [InlineData("shutdown.json")]
    public async Task A_link_at_a_state_file_is_never_written_through_and_the_VM_still_stops(string file)
    {
        var vm = _root.Launch("web");
        var victim = Victim("victim");
        var dangling = Path.Combine(_outside, "created-" + file);
        File.CreateSymbolicLink(Path.Combine(vm.Paths.Directory, file), victim);
        _root.Launch("db");
        File.CreateSymbolicLink(Path.Combine(_root.Vm("db").Directory, file), dangling);

        var (observer, result) = await StopAsync("web");
        var (_, other) = await StopAsync("db");

        AssertUntouched(victim);
        Assert.False(File.Exists(dangling), "a dangling link's target must not be created");
        Assert.Equal((ShutdownOutcome.Graceful, ShutdownOutcome.Graceful), (result.Outcome, other.Outcome));
        Assert.False(vm.IsAlive);
        if (file == "events.ndjson")
        {
            Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.UnsafeStateFile && d.Message.Contains("symbolic link", StringComparison.Ordinal));
            Assert.Equal("ShutdownComplete", observer.TypesFor("web")[^1]); // the caller still gets every event
        }
        else
        {
            // rename(2) replaced the link itself with Castra's own file.
            Assert.False(new FileInfo(Path.Combine(vm.Paths.Directory, file)).LinkTarget is not null);
            Assert.Equal("Complete", StatusStore.TryRead(vm.Paths)!.Phase);
        }
    }

    [Fact]
    public async Task A_link_at_the_lock_fails_that_VM_without_sending_anything_and_without_writing_through_it()
    {
        var vm = _root.Launch("web");
        var victim = Victim("lock-victim");
        Directory.CreateDirectory(Path.GetDirectoryName(vm.Paths.LockFile)!);
        File.CreateSymbolicLink(vm.Paths.LockFile, victim);

        var (observer, result) = await StopAsync("web");

        AssertUntouched(victim);
        Assert.Equal((ShutdownOutcome.Failed, ErrorIds.UnsafeStateFile), (result.Outcome, result.ErrorId));
        Assert.Contains("nothing was sent to the VM", result.Message);
        Assert.True(vm.IsAlive);
        Assert.Equal(0, vm.Count("cmd:system_powerdown"));
        var audit = AuditTrail.Read(_root.Root).Single();
        Assert.Equal(("web", "Failed"), (audit.VmName, audit.Outcome));
    }

    [Fact]
    public async Task A_VM_directory_that_is_a_link_is_refused_and_nothing_is_created_behind_it()
    {
        using var bystander = Process.Start("sleep", ["60"]);
        File.WriteAllText(Path.Combine(_outside, "qemu.pid"), bystander.Id + "\n");
        Directory.CreateSymbolicLink(_root.Vm("evil").Directory, _outside);
        try
        {
            var (observer, result) = await StopAsync("evil");

            Assert.Equal((ShutdownOutcome.Failed, ErrorIds.UnsafeStateFile), (result.Outcome, result.ErrorId));
            Assert.Equal(["qemu.pid"], Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName));
            Assert.False(bystander.HasExited);
            Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.UnsafeStateFile && d.Message.Contains("symbolic link", StringComparison.Ordinal));

            var listed = (await VmInventory.ListAsync(_root.Root)).Single(v => v.Name == "evil");
            Assert.Equal("Unknown", listed.State);
            Assert.Contains("symbolic link", listed.Detail);
        }
        finally
        {
            bystander.Kill();
        }
    }

    [Fact]
    public async Task Hook_logs_are_never_written_through_a_planted_link_or_into_a_linked_directory()
    {
        var web = _root.Launch("web");
        var db = _root.Launch("db");
        HookScripts.Register(_root, "export", "echo secret-output");
        var victim = Victim("log-victim");
        Directory.CreateDirectory(Path.Combine(web.Paths.Directory, "hooks"));
        File.CreateSymbolicLink(Path.Combine(web.Paths.Directory, "hooks", "PreStop.export.log"), victim);
        Directory.CreateSymbolicLink(Path.Combine(db.Paths.Directory, "hooks"), _outside);

        var (webRun, webResult) = await StopAsync("web");
        var (dbRun, dbResult) = await StopAsync("db");

        AssertUntouched(victim);
        Assert.Equal(["log-victim"], Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName));
        foreach (var (run, name, result) in new[] { (webRun, "web", webResult), (dbRun, "db", dbResult) })
        {
            var hook = run.For(name).OfType<HookCompletedEvent>().Single();
            Assert.Equal("Failed", hook.Status);
            Assert.Contains("could not start", hook.Message);
            Assert.Contains("symbolic link", hook.Message);
            Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        }
    }

    [Fact]
    public async Task A_state_file_hard_linked_to_a_file_elsewhere_is_not_written()
    {
        var vm = _root.Launch("web");
        var victim = Victim("hardlink-victim");
        using (var ln = Process.Start("ln", [victim, vm.Paths.Journal]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        var (observer, result) = await StopAsync("web");

        AssertUntouched(victim);
        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.UnsafeStateFile && d.Message.Contains("hard links", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Castra_files_owned_by_another_user_are_refused()
    {
        var locked = _root.Launch("locked");
        Directory.CreateDirectory(Path.GetDirectoryName(locked.Paths.LockFile)!);
        File.WriteAllText(locked.Paths.LockFile, "");
        OtherUser.Own(locked.Paths.LockFile);
        var hooked = _root.Launch("hooked");
        HookScripts.Register(_root, "planted", "echo ran > \"$OUT/planted\"");
        OtherUser.Own(_root.Root.HooksFile);

        var (lockRun, lockResult) = await StopAsync("locked");
        var (hookRun, hookResult) = await StopAsync("hooked");

        Assert.Equal((ShutdownOutcome.Failed, ErrorIds.UnsafeStateFile), (lockResult.Outcome, lockResult.ErrorId));
        Assert.Contains($"owned by uid {OtherUser.Uid}", lockResult.Message);
        Assert.True(locked.IsAlive);

        // A hooks.json written by someone else would run their commands as the caller: no hook runs.
        Assert.Equal(ShutdownOutcome.Graceful, hookResult.Outcome);
        Assert.False(File.Exists(Path.Combine(HookScripts.Out(_root), "planted")));
        Assert.Contains(hookRun.Diagnostics, d => d.ErrorId == ErrorIds.InvalidHook && d.Message.Contains(_root.Root.HooksFile, StringComparison.Ordinal)
            && d.Message.Contains($"owned by uid {OtherUser.Uid}", StringComparison.Ordinal));
        Assert.DoesNotContain(hookRun.For("hooked"), e => e is HookStartedEvent);
    }

    [Fact]
    public async Task Session_records_another_user_wrote_or_that_belong_elsewhere_are_never_signalled()
    {
        var vm = _root.Launch("web");
        using var planted = Process.Start("setsid", ["sleep", "60"]);
        using var misfiled = Process.Start("setsid", ["sleep", "60"]);
        await Task.Delay(100);
        var sessions = Path.Combine(vm.Paths.Directory, "sessions");
        Directory.CreateDirectory(sessions);
        WriteSession(sessions, "20261130T000000Z-0000aaaa", "web", planted.Id);
        OtherUser.Own(Path.Combine(sessions, "20261130T000000Z-0000aaaa.json"));
        WriteSession(sessions, "20261130T000000Z-0000bbbb", "db", misfiled.Id); // a record naming another VM

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(planted.HasExited);
        Assert.False(misfiled.HasExited);
        Assert.DoesNotContain(observer.For("web"), e => e is HookStartedEvent);
        planted.Kill();
        misfiled.Kill();
    }

    private static void WriteSession(string directory, string runId, string vmName, int pid) =>
        File.WriteAllText(Path.Combine(directory, runId + ".json"), JsonSerializer.Serialize(new Castra.Sessions.VmSession
        {
            RunId = runId,
            VmName = vmName,
            Pid = pid,
            Status = "Running",
            StartedAt = DateTime.UtcNow,
            Executable = "/bin/sleep",
            Arguments = ["60"],
            ProcessStartTime = Castra.Processes.ProcStat.TryRead(pid)!.StartTime,
            BootId = Castra.Processes.HostClock.BootId,
        }, Castra.Serialization.CastraJsonContext.Default.VmSession));

    [Theory]
    [InlineData("root-writable")]
    [InlineData("vms-writable")]
    [InlineData("vms-foreign")]
    public async Task A_state_root_or_vms_others_can_change_is_refused_before_anything_is_sent(string how)
    {
        var vm = _root.Launch("web");
        switch (how)
        {
            case "root-writable":
                File.SetUnixFileMode(_root.Path, (UnixFileMode)0x1FF); // 0777
                break;
            case "vms-writable":
                File.SetUnixFileMode(_root.Root.VmsDirectory, (UnixFileMode)0x1F8); // 0770
                break;
            default:
                OtherUser.Own(_root.Root.VmsDirectory);
                break;
        }

        var (observer, result) = await StopAsync("web");

        Assert.Equal((ShutdownOutcome.Failed, ErrorIds.UnsafeStateFile), (result.Outcome, result.ErrorId));
        Assert.True(vm.IsAlive);
        Assert.Equal(0, vm.Count("cmd:system_powerdown"));
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.UnsafeStateFile);
        var listing = Assert.Throws<CastraException>(() => _root.Root.ListVmNames());
        Assert.Equal(ErrorIds.UnsafeStateFile, listing.ErrorId);
    }

    [Fact]
    public async Task A_vm_json_written_by_another_user_does_not_make_Castra_delete_what_it_names()
    {
        var vm = _root.Launch("web");
        var keep = Path.Combine(vm.Paths.Directory, "disk.qcow2");
        File.WriteAllText(keep, "disk");
        File.WriteAllText(vm.Paths.Definition, JsonSerializer.Serialize(new { Name = "web", EphemeralOverlay = keep }));
        OtherUser.Own(vm.Paths.Definition);

        var (_, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.True(File.Exists(keep));
    }

    [Theory]
    [InlineData("qemu.pid")]
    [InlineData("vm.json")]
    [InlineData("shutdown.json")]
    [InlineData("events.ndjson")]
    public async Task A_FIFO_at_a_state_file_never_blocks_and_is_reported(string file)
    {
        var vm = _root.Launch("web");
        var path = Path.Combine(vm.Paths.Directory, file);
        File.Delete(path);
        MakeFifo(path);

        var (observer, result) = await StopAsync("web");

        // With the pidfile a FIFO, the VM's QEMU is found (and proven) through its QMP socket; never a hang.
        Assert.Contains(observer.Diagnostics, d => d.Message.Contains("FIFO", StringComparison.Ordinal) || d.Message.Contains("not a regular file", StringComparison.Ordinal));
        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public async Task A_FIFO_at_hooks_json_is_a_warning_and_the_shutdown_happens()
    {
        var vm = _root.Launch("web");
        MakeFifo(_root.Root.HooksFile);

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.InvalidHook && d.Message.Contains("FIFO", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ps_status_and_dry_run_do_not_block_on_FIFOs_or_devices()
    {
        _root.Launch("web");
        File.Delete(_root.Vm("web").Definition);
        MakeFifo(_root.Vm("web").Definition);
        Directory.CreateDirectory(_root.Vm("zero").Directory);
        File.CreateSymbolicLink(_root.Vm("zero").PidFile, "/dev/zero");
        MakeFifo(_root.Vm("zero").Status);

        foreach (var args in new[] { new[] { "ps" }, ["status"], ["down", "--all", "--dry-run"] })
        {
            var (exit, stdout, stderr) = await CliRunner.RunAsync([.. args, "--home", _root.Path]).WaitAsync(Bound);
            Assert.True(exit is 0 or 1 or 3, $"castra {string.Join(' ', args)} exited {exit}: {stderr}");
            Assert.Contains("web", stdout + stderr);
        }
    }

    [Fact]
    public async Task Oversized_state_files_are_refused_not_read_into_memory()
    {
        var vm = _root.Launch("web");
        File.WriteAllText(vm.Paths.Definition, "{\"Name\":\"" + new string('x', StateLimits.DefinitionBytes) + "\"}");
        File.WriteAllText(vm.Paths.Status, new string(' ', StateLimits.StatusBytes + 1));
        Directory.CreateDirectory(_root.Vm("huge").Directory);
        File.WriteAllText(_root.Vm("huge").PidFile, new string('1', 1 << 20));

        var (observer, result) = await StopAsync("web");
        var (hugeRun, huge) = await StopAsync("huge");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(vm.IsAlive);
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.VmDefinitionInvalid && d.Message.Contains("bytes", StringComparison.Ordinal));
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.StatusUnreadable && d.Message.Contains("bytes", StringComparison.Ordinal));
        Assert.NotNull(huge.Outcome);
        Assert.Contains(hugeRun.Diagnostics, d => d.Message.Contains("bytes", StringComparison.Ordinal));
    }

    public static TheoryData<string, bool> DamagedHookFiles => new()
    {
        // content, whether the good entry next to the damage still runs
        { """{"Version":1,"Hooks":null}""", false },
        { """{"Version":1,"Hooks":[null, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":"bad","Stage":"Sometime","Priority":100,"TimeoutMs":1000,"Kind":"Executable","Executable":"/bin/true","Arguments":[]}, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":"bad","Stage":"PreStop","Priority":100,"TimeoutMs":-1,"Kind":"Executable","Executable":"/bin/true","Arguments":[]}, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":"bad","Stage":"PreStop","Priority":100,"TimeoutMs":1000000000000,"Kind":"Executable","Executable":"/bin/true","Arguments":[]}, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":"bad","Stage":"PreStop","Priority":100,"TimeoutMs":1000,"Kind":"Executable","Executable":"/bin/true","Arguments":null}, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":"bad","Stage":"PreStop","Priority":100,"TimeoutMs":1000,"Kind":"Executable","Executable":"/bin/true","Arguments":[null]}, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":"bad","Stage":"PreStop","Priority":5,"TimeoutMs":1000,"Kind":"Executable","Executable":"/bin/true","Arguments":[]}, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":"bad","Stage":"PreStop","Priority":100,"TimeoutMs":1000,"Kind":"Executable","Executable":"true","Arguments":[]}, GOOD]}""", true },
        { """{"Version":1,"Hooks":[{"Name":5}, GOOD]}""", false },
        { """[1,2]""", false },
        { """5""", false },
        { """{"Version":1,"Hooks":[{"Name":"bad","TimeoutMs":1e400}]}""", false },
    };

    [Theory]
    [MemberData(nameof(DamagedHookFiles))]
    public async Task A_damaged_hooks_json_is_a_warning_naming_the_file_and_the_shutdown_still_happens(string content, bool goodEntryRuns)
    {
        var vm = _root.Launch("web");
        var good = HookScripts.Register(_root, "good", "echo ran > \"$OUT/good\"");
        File.WriteAllText(_root.Root.HooksFile, content.Replace("GOOD", JsonSerializer.Serialize(good), StringComparison.Ordinal));

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(vm.IsAlive);
        Assert.Contains(observer.Diagnostics, d => d.Severity == DiagnosticSeverity.Warning && d.ErrorId == ErrorIds.InvalidHook
            && d.Message.Contains(_root.Root.HooksFile, StringComparison.Ordinal));
        Assert.Equal(goodEntryRuns, File.Exists(Path.Combine(HookScripts.Out(_root), "good")));
        Assert.DoesNotContain(observer.For("web"), e => e is HookStartedEvent { HookName: "bad" });
    }

    [Fact]
    public void Registering_over_a_damaged_hooks_json_refuses_instead_of_dropping_entries()
    {
        File.WriteAllText(_root.Root.HooksFile, """{"Version":1,"Hooks":[{"Name":"bad","Stage":"Sometime"}]}""");

        var ex = Assert.Throws<CastraException>(() => HookScripts.Register(_root, "new", "true"));

        Assert.Equal(ErrorIds.InvalidHook, ex.ErrorId);
        Assert.Contains("damaged entries", ex.Message);
        Assert.Contains("Sometime", File.ReadAllText(_root.Root.HooksFile));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[1]")]
    [InlineData("""{"Phase":5}""")]
    [InlineData("""{"VmName":"other","ShutdownId":"x","Phase":"Cooperative","OwnerPid":1}""")]
    [InlineData("""{"VmName":"web","ShutdownId":"x","Phase":"Sometime","OwnerPid":1}""")]
    [InlineData("""{"VmName":"web","ShutdownId":"x","Phase":"Cooperative","OwnerPid":-4}""")]
    [InlineData("DIRECTORY")]
    public async Task A_damaged_status_file_is_a_warning_and_the_shutdown_still_happens(string content)
    {
        var vm = _root.Launch("web");
        if (content == "DIRECTORY")
        {
            Directory.CreateDirectory(vm.Paths.Status);
        }
        else
        {
            File.WriteAllText(vm.Paths.Status, content);
        }

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(vm.IsAlive);
        Assert.Contains(observer.Diagnostics, d => d.Severity == DiagnosticSeverity.Warning && d.Message.Contains(vm.Paths.Status, StringComparison.Ordinal));
        if (content != "DIRECTORY")
        {
            Assert.Equal("Complete", StatusStore.TryRead(vm.Paths)!.Phase);
        }
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("null")]
    [InlineData("""{"CooperativeTimeoutSeconds":"soon"}""")]
    [InlineData("""{"CooperativeTimeoutSeconds":-1}""")]
    [InlineData("""{"TermTimeoutSeconds":1e400}""")]
    [InlineData("""{"ProcessStartTime":-5}""")]
    [InlineData("""{"BootId":5}""")]
    [InlineData("""{"Launch":[1,2]}""")]
    public async Task A_damaged_vm_json_is_a_warning_with_defaults_and_the_shutdown_still_happens(string content)
    {
        var vm = _root.Launch("web");
        File.WriteAllText(vm.Paths.Definition, content);

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.False(vm.IsAlive);
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.VmDefinitionInvalid && d.Message.Contains(vm.Paths.Definition, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_journal_that_is_a_directory_is_a_warning_and_the_caller_still_gets_every_event()
    {
        var vm = _root.Launch("web");
        Directory.CreateDirectory(vm.Paths.Journal);

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], observer.TypesFor("web"));
        Assert.Contains(observer.Diagnostics, d => d.Message.Contains(vm.Paths.Journal, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_torn_last_journal_line_is_cut_before_the_next_run_appends()
    {
        var vm = _root.Launch("web");
        File.WriteAllText(vm.Paths.Journal, "{\"Type\":\"ShutdownRequested\",\"VmName\":\"web\"}\n{\"Type\":\"CooperativeAtt");

        await StopAsync("web");

        var lines = File.ReadAllLines(vm.Paths.Journal);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l).RootElement.ValueKind));
        Assert.All(lines.Skip(1), l => EventJson.Deserialize(l));
    }

    [Fact]
    public async Task Files_Castra_writes_are_private_whatever_was_there_before()
    {
        var vm = _root.Launch("web");
        File.WriteAllText(vm.Paths.Journal, "");
        File.SetUnixFileMode(vm.Paths.Journal, (UnixFileMode)0x1B6); // 0666, as an old Castra or a loose umask left it
        HookScripts.Register(_root, "export", "echo secret");

        await StopAsync("web");

        const UnixFileMode rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        const UnixFileMode rwx = rw | UnixFileMode.UserExecute;
        AssertPrivate(vm.Paths.Journal, rw);
        AssertPrivate(vm.Paths.Status, rw);
        AssertPrivate(vm.Paths.LockFile, rw);
        AssertPrivate(Path.GetDirectoryName(vm.Paths.LockFile)!, rwx);
        Assert.False(File.Exists(Path.Combine(vm.Paths.Directory, "lock")), "the lock lives outside the VM's directory, where its owner cannot rename it");
        AssertPrivate(_root.Root.HooksFile, rw);
        AssertPrivate(_root.Root.AuditFile, rw);
        AssertPrivate(Path.Combine(vm.Paths.Directory, "hooks"), rwx);
        AssertPrivate(Path.Combine(vm.Paths.Directory, "hooks", "PreStop.export.log"), rw);
    }

    [Fact]
    public async Task A_full_disk_never_leaves_a_torn_journal_line_and_the_VM_still_stops()
    {
        using var tiny = TinyStateRoot.Mount(sizeKiB: 512);
        var vm = FakeVm.Launch(tiny.Root.Vm("web"), "graceful", 50, qmp: true, extraArgs: null);
        try
        {
            // Earlier lines fill the journal's first page to 100 bytes short of its end; with the disk full, the next
            // line's first 100 bytes still fit in that page and the rest does not: a short write, then ENOSPC.
            var earlier = JournalLines(4096 - 100);
            File.WriteAllText(vm.Paths.Journal, earlier);
            tiny.Fill();

            var observer = new RecordingObserver();
            var result = (await new ShutdownEngine(tiny.Root).StopAsync(["web"], new ShutdownOptions(), observer).WaitAsync(Bound)).Single();

            Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
            Assert.False(vm.IsAlive);
            Assert.Contains(observer.Diagnostics, d => d.Severity == DiagnosticSeverity.Warning && d.Message.Contains(vm.Paths.Journal, StringComparison.Ordinal));
            Assert.Equal("ShutdownComplete", observer.TypesFor("web")[^1]);
            Assert.Equal(earlier, File.ReadAllText(vm.Paths.Journal)); // the line that did not fit is absent, not torn
        }
        finally
        {
            vm.Kill();
        }
    }

    /// <summary>Complete journal lines of exactly <paramref name="length"/> bytes in all.</summary>
    private static string JournalLines(int length)
    {
        static string Line(string? message) => EventJson.Serialize(new ShutdownRequestedEvent
        {
            VmName = "web", ShutdownId = "old", Sequence = 1, Timestamp = DateTime.UnixEpoch, Reason = "UserRequested", Message = message,
        }) + "\n";

        var text = new StringBuilder();
        while (text.Length + (2 * Line(null).Length) + 64 < length)
        {
            text.Append(Line(null));
        }

        text.Append(Line(new string('x', length - text.Length - Line("").Length)));
        Assert.Equal(length, Encoding.UTF8.GetByteCount(text.ToString()));
        return text.ToString();
    }

    [Fact]
    public async Task A_takeover_ends_the_hook_group_the_interrupted_run_left_running()
    {
        var vm = _root.Launch("web");
        var leftover = HookLikeGroup();
        var unrelated = HookLikeGroup();
        using var deadOwner = Process.Start("true");
        deadOwner.WaitForExit();
        var stale = Record("stale", unrelated);
        stale.LeaderStartTime -= 1; // not the process that leads that group now
        WriteInterruptedStatus(vm.Paths, deadOwner.Id, DateTime.UtcNow, Record("export", leftover), stale);

        var (observer, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.True(WaitGone(leftover.Id), "the hook the interrupted run left running was ended");
        Assert.False(WaitGone(unrelated.Id, 500), "a group whose leader is not the recorded process is never signalled");
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.ShutdownInterruptedTakeover && d.Message.Contains("hook 'export'", StringComparison.Ordinal));
        unrelated.Kill();
    }

    [Fact]
    public async Task A_takeover_never_signals_processes_that_took_over_a_dead_hook_groups_number()
    {
        var vm = _root.Launch("web");
        var hook = HookLikeGroup();
        var recorded = Record("export", hook);
        using var deadOwner = Process.Start("true");
        deadOwner.WaitForExit();
        hook.Kill();
        Assert.True(WaitGone(hook.Id));
        await Task.Delay(1500); // past the recorded status update, by more than /proc's start-time resolution

        // Someone else's daemon now has the group's number, its leader already gone (setsid sh -c 'sleep & exit').
        var squatter = StartAtPid(hook.Id, "setsid", "sh", "-c", "sleep 60 & exit");
        WriteInterruptedStatus(vm.Paths, deadOwner.Id, DateTime.UtcNow.AddSeconds(-1.5), recorded);

        var (_, result) = await StopAsync("web");

        Assert.Equal(ShutdownOutcome.Graceful, result.Outcome);
        Assert.NotEmpty(Castra.Processes.ProcessGroup.Members(hook.Id, null));
        foreach (var member in Castra.Processes.ProcessGroup.Members(hook.Id, null))
        {
            Process.GetProcessById(member.Pid).Kill();
        }
    }

    /// <summary>A process group like a hook's: its own group (job control), in the test's session, not a session leader.</summary>
    private static Process HookLikeGroup()
    {
        var shell = Process.Start(new ProcessStartInfo("bash", ["-c", "set -m; sleep 60 & echo $!; wait"]) { RedirectStandardOutput = true })!;
        var pid = int.Parse(shell.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        return Process.GetProcessById(pid);
    }

    private static HookGroupRecord Record(string hook, Process leader)
    {
        var stat = Castra.Processes.ProcStat.TryRead(leader.Id)!;
        Assert.Equal(leader.Id, stat.ProcessGroup);
        return new HookGroupRecord { Hook = hook, ProcessGroup = leader.Id, LeaderStartTime = stat.StartTime, BootId = Castra.Processes.HostClock.BootId, Session = stat.Session };
    }

    private static bool WaitGone(int pid, int milliseconds = 5000)
    {
        var until = DateTime.UtcNow.AddMilliseconds(milliseconds);
        while (Castra.Processes.ProcStat.TryRead(pid) is { IsDead: false })
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    /// <summary>Runs <paramref name="program"/> as a new process with exactly <paramref name="pid"/> (tests/fixtures/identity).</summary>
    private static int StartAtPid(int pid, string program, params string[] args)
    {
        using var helper = Process.Start(new ProcessStartInfo(IdentityHelperBinary.Path, ["at-pid", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), program, .. args])
        {
            RedirectStandardOutput = true,
        })!;
        var said = helper.StandardOutput.ReadToEnd();
        Assert.True(helper.WaitForExit(60_000));
        Assert.True(helper.ExitCode == 0, $"could not start {program} at PID {pid}: {said}");
        var until = DateTime.UtcNow.AddSeconds(10);
        while (Castra.Processes.ProcessGroup.Members(pid, null).Count == 0 && DateTime.UtcNow < until)
        {
            Thread.Sleep(10);
        }

        return pid;
    }

    [Fact]
    public async Task Stop_all_also_stops_a_VM_that_appears_while_it_runs()
    {
        _root.Launch("first");
        var launched = 0;
        var observer = new RecordingObserver();
        FakeVm? late = null;
        observer.WhenEvent(e =>
        {
            if (e is ShutdownRequestedEvent && Interlocked.Exchange(ref launched, 1) == 0)
            {
                late = _root.Launch("late");
            }
        });

        var results = await new ShutdownEngine(_root.Root).StopAllAsync(new ShutdownOptions(), observer).WaitAsync(Bound);

        Assert.Equal(["first", "late"], results.Select(r => r.VmName));
        Assert.All(results, r => Assert.Equal(ShutdownOutcome.Graceful, r.Outcome));
        Assert.False(late!.IsAlive);
        Assert.Contains(observer.Diagnostics, d => d.ErrorId == ErrorIds.VmAppeared && d.Message.Contains("late", StringComparison.Ordinal));
    }

    private static void WriteInterruptedStatus(VmPaths vm, int ownerPid, DateTime now, params HookGroupRecord[] groups)
    {
        var status = new StatusDocument
        {
            VmName = vm.Name,
            ShutdownId = "20261130T000000Z-0badf00d",
            Phase = "PreStopHooks",
            Reason = "UserRequested",
            StartedAt = now.AddSeconds(-5),
            UpdatedAt = now,
            Deadline = now.AddMinutes(5),
            OwnerPid = ownerPid,
            OwnerHost = Environment.MachineName,
            HookGroups = [.. groups],
        };
        File.WriteAllText(vm.Status, JsonSerializer.Serialize(status, Castra.Serialization.CastraJsonContext.Default.StatusDocument));
    }
}

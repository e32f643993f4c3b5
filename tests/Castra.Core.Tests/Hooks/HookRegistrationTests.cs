using Castra.Errors;
using Castra.Hooks;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests.Hooks;

/// <summary>Registration: validation with clear errors, duplicates, replacement, persistence, scopes.</summary>
public sealed class HookRegistrationTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private HookStore Store => new(_root.Root);

    private HookRegistration Valid(string name = "export") => new()
    {
        Name = name,
        Executable = "/bin/true",
        WorkingDirectory = _root.Path,
    };

    [Theory]
    [InlineData(5, "reserved")]
    [InlineData(0, "reserved")]
    [InlineData(1001, "11-1000")]
    [InlineData(-1, "11-1000")]
    public void Priorities_outside_the_user_range_are_refused(int priority, string expected)
    {
        var ex = Assert.Throws<CastraException>(() => Store.Register(Valid() with { Priority = priority }));
        Assert.Equal(ErrorIds.InvalidHook, ex.ErrorId);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("")]
    [InlineData("castra.drain-sessions")]
    public void Bad_or_reserved_names_are_refused(string name)
    {
        var ex = Assert.Throws<CastraException>(() => Store.Register(Valid(name)));
        Assert.Equal(ErrorIds.InvalidHook, ex.ErrorId);
    }

    [Fact]
    public void Timeouts_must_be_positive_and_at_most_a_day()
    {
        Assert.Equal(ErrorIds.InvalidTimeout, Assert.Throws<CastraException>(() => Store.Register(Valid() with { Timeout = TimeSpan.Zero })).ErrorId);
        Assert.Equal(ErrorIds.InvalidTimeout, Assert.Throws<CastraException>(() => Store.Register(Valid() with { Timeout = TimeSpan.FromDays(2) })).ErrorId);
    }

    [Theory]
    [InlineData(0.0004)]
    [InlineData(0.0005)]
    public void A_timeout_that_would_be_stored_as_0_ms_is_refused(double seconds)
    {
        var ex = Assert.Throws<CastraException>(() => Store.Register(Valid() with { Timeout = TimeSpan.FromSeconds(seconds) }));
        Assert.Equal(ErrorIds.InvalidTimeout, ex.ErrorId);
        Assert.Contains("at least 0.001", ex.Message);
        Assert.Empty(Store.List());

        Assert.Equal(1, Store.Register(Valid() with { Timeout = TimeSpan.FromSeconds(0.001) }).TimeoutMs);
    }

    [Fact]
    public void A_missing_or_non_executable_program_is_refused_at_registration()
    {
        var missing = Assert.Throws<CastraException>(() => Store.Register(Valid() with { Executable = "/nonexistent/tool" }));
        Assert.Equal(ErrorIds.HookExecutableNotFound, missing.ErrorId);
        var notOnPath = Assert.Throws<CastraException>(() => Store.Register(Valid() with { Executable = "no-such-tool-xyz" }));
        Assert.Contains("PATH", notOnPath.Message);

        var plain = Path.Combine(_root.Path, "plain.sh");
        File.WriteAllText(plain, "echo hi");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(plain, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var notExecutable = Assert.Throws<CastraException>(() => Store.Register(Valid() with { Executable = plain }));
        Assert.Equal(CastraErrorCategory.PermissionDenied, notExecutable.Category);
        Assert.Contains("not executable", notExecutable.Message);
    }

    [Fact]
    public void Exactly_one_of_program_and_script_block_is_required()
    {
        Assert.Equal(ErrorIds.InvalidHook, Assert.Throws<CastraException>(() => Store.Register(Valid() with { Executable = null })).ErrorId);
        Assert.Equal(ErrorIds.InvalidHook, Assert.Throws<CastraException>(() => Store.Register(Valid() with { ScriptBlock = "Write-Output 1", PowerShellPath = "/bin/sh" })).ErrorId);
    }

    [Fact]
    public void Programs_are_stored_as_absolute_paths_resolved_from_path_or_the_working_directory()
    {
        var onPath = Store.Register(Valid("a") with { Executable = "sh" });
        Assert.True(Path.IsPathRooted(onPath.Executable));
        Assert.EndsWith("/sh", onPath.Executable);

        var script = HookScripts.Write(_root, "rel.sh", "exit 0");
        var relative = Store.Register(Valid("b") with { Executable = "scripts/rel.sh" });
        Assert.Equal(script, relative.Executable);
        Assert.Equal(_root.Path, relative.WorkingDirectory);
    }

    [Fact]
    public void Duplicates_are_refused_unless_replaced_explicitly()
    {
        Store.Register(Valid() with { Priority = 50 });

        var ex = Assert.Throws<CastraException>(() => Store.Register(Valid() with { Priority = 60 }));
        Assert.Equal(ErrorIds.HookExists, ex.ErrorId);

        // The engine names no face's syntax; each face passes its own wording.
        Assert.Contains("the option to replace an existing hook", ex.Message);
        Assert.DoesNotContain("-Force", ex.Message);
        Assert.DoesNotContain("--force", ex.Message);
        var viaCli = Assert.Throws<CastraException>(() => new HookStore(Store.Root, Castra.Cli.CliWording.Instance).Register(Valid() with { Priority = 60 }));
        Assert.Contains("use --force to replace it", viaCli.Message);
        Assert.Equal(50, Store.List().Single().Priority);

        Store.Register(Valid() with { Priority = 60 }, replace: true);
        Assert.Equal(60, Store.List().Single().Priority);
    }

    [Fact]
    public void The_same_name_may_exist_per_scope_and_a_vms_own_hook_replaces_the_global_one()
    {
        Store.Register(Valid("notify") with { VmName = "*", Arguments = ["global"] });
        Store.Register(Valid("notify") with { VmName = "web", Arguments = ["web"] });

        Assert.Equal(["web"], Store.ForVm("web", HookStage.PreStop).Single().Arguments);
        Assert.Equal(["global"], Store.ForVm("db", HookStage.PreStop).Single().Arguments);

        var ambiguous = Assert.Throws<CastraException>(() => Store.Unregister("notify"));
        Assert.Equal(ErrorIds.HookAmbiguous, ambiguous.ErrorId);
        Store.Unregister("notify", "web");
        Assert.Equal(["global"], Store.ForVm("web", HookStage.PreStop).Single().Arguments);
        Assert.Equal(ErrorIds.HookNotFound, Assert.Throws<CastraException>(() => Store.Unregister("ghost")).ErrorId);
    }

    [Fact]
    public void A_vms_own_hook_replaces_the_global_one_of_the_same_name_whatever_their_stages()
    {
        Store.Register(Valid("notify") with { VmName = "*", Stage = HookStage.PostStop, Arguments = ["global"] });
        Store.Register(Valid("notify") with { VmName = "db", Stage = HookStage.PreStop, Arguments = ["db"] });

        Assert.Equal(["db"], Store.ForVm("db", HookStage.PreStop).Single().Arguments);
        Assert.Empty(Store.ForVm("db", HookStage.PostStop));
        Assert.Empty(Store.ForVm("web", HookStage.PreStop));
        Assert.Equal(["global"], Store.ForVm("web", HookStage.PostStop).Single().Arguments);
    }

    [Fact]
    public void Hooks_persist_under_the_state_root_for_every_later_reader()
    {
        Store.Register(Valid("first") with { Stage = HookStage.PostStop, Priority = 200, Timeout = TimeSpan.FromSeconds(2.5), Arguments = ["-x", "a b"] });

        var reread = new HookStore(new StateRoot(_root.Path)).List().Single();
        Assert.Equal("first", reread.Name);
        Assert.Equal("PostStop", reread.Stage);
        Assert.Equal(200, reread.Priority);
        Assert.Equal(2500, reread.TimeoutMs);
        Assert.Equal(["-x", "a b"], reread.Arguments);
        Assert.Equal(_root.Path, reread.StateRoot);
        Assert.Contains("@", reread.RegisteredBy);
        Assert.True(File.Exists(_root.Root.HooksFile));
    }

    [Fact]
    public async Task Concurrent_registrations_from_many_callers_are_all_kept()
    {
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => new HookStore(new StateRoot(_root.Path)).Register(Valid($"h{i}")))));

        Assert.Equal(20, Store.List().Count);
    }

    [Fact]
    public void A_damaged_or_newer_hooks_file_is_refused_with_its_path_not_overwritten()
    {
        Store.Register(Valid("kept"));
        Assert.Contains("\"Version\": 1", File.ReadAllText(_root.Root.HooksFile));

        File.WriteAllText(_root.Root.HooksFile, "{ \"Version\": 2, \"Hooks\": [] }");
        var newer = Assert.Throws<CastraException>(() => Store.Register(Valid("other")));
        Assert.Equal(ErrorIds.InvalidHook, newer.ErrorId);
        Assert.Contains("newer Castra", newer.Message);

        File.WriteAllText(_root.Root.HooksFile, "{ not json");
        var damaged = Assert.Throws<CastraException>(() => Store.List());
        Assert.Contains(_root.Root.HooksFile, damaged.Message);
        Assert.Equal("{ not json", File.ReadAllText(_root.Root.HooksFile));
    }
}

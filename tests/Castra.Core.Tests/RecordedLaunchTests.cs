using Castra.Errors;
using Castra.Launch;
using Castra.State;
using Castra.Tests.Support;

namespace Castra.Tests;

/// <summary>
/// Starting again from vm.json (Start-CastraVm NAME, castra up NAME, Restart-CastraVm): the record is input someone
/// may have damaged or planted, so only a file that proves its owner may say what Castra runs, and every recorded
/// value passes the checks a typed-in one does.
/// </summary>
public sealed class RecordedLaunchTests : IDisposable
{
    private readonly TestStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private string Define(string name, string json)
    {
        var vm = _root.Vm(name);
        Directory.CreateDirectory(vm.Directory);
        File.WriteAllText(vm.Definition, json);
        return vm.Definition;
    }

    private const string Recorded = """
        {
          "Name": "web",
          "CooperativeTimeoutSeconds": 7,
          "Launch": {
            "Kernel": "/boot/vmlinux", "Initrd": "/boot/initrd.img", "Append": "console=ttyS0",
            "MemoryMB": 256, "CpuCount": 2, "GuestAgent": true, "Accelerator": "tcg",
            "Qemu": "/usr/bin/qemu-system-x86_64", "Arguments": ["-name", "web"], "ExtraArguments": ["-device", "virtio-rng-pci"]
          }
        }
        """;

    [Fact]
    public void The_recorded_launch_becomes_the_options_it_was_started_with()
    {
        Define("web", Recorded);

        var options = RecordedLaunch.Read(_root.Root, "web");

        Assert.Equal("/boot/vmlinux", options.Kernel);
        Assert.Equal("/boot/initrd.img", options.Initrd);
        Assert.Equal("console=ttyS0", options.Append);
        Assert.Null(options.Disk);
        Assert.Equal(256, options.MemoryMB);
        Assert.Equal(2, options.CpuCount);
        Assert.True(options.GuestAgent);
        Assert.Equal("tcg", options.Accelerator);
        Assert.Equal("/usr/bin/qemu-system-x86_64", options.QemuPath);
        Assert.Equal(["-device", "virtio-rng-pci"], options.ExtraArguments);

        // vm.json's own timeouts stay where they are: the launcher keeps them when the options say nothing.
        Assert.Null(options.CooperativeTimeoutSeconds);
    }

    [Fact]
    public void Given_values_replace_the_recorded_ones_and_the_rest_is_kept()
    {
        Define("web", Recorded);

        var options = RecordedLaunch.Read(_root.Root, "web", new LaunchOverrides { MemoryMB = 1024, GuestAgent = false, ExtraArguments = [] });

        Assert.Equal(1024, options.MemoryMB);
        Assert.False(options.GuestAgent);
        Assert.Empty(options.ExtraArguments);
        Assert.Equal(2, options.CpuCount);
        Assert.Equal("/boot/vmlinux", options.Kernel);
    }

    [Fact]
    public void A_record_without_extra_arguments_from_an_older_castra_starts_without_them()
    {
        Define("old", """{"Launch": {"Disk": "/srv/old.qcow2", "MemoryMB": 512, "CpuCount": 1, "Accelerator": "auto", "Qemu": "qemu-system-x86_64", "Arguments": ["-x"]}}""");

        var options = RecordedLaunch.Read(_root.Root, "old");

        Assert.Equal("/srv/old.qcow2", options.Disk);
        Assert.Empty(options.ExtraArguments);
    }

    [Fact]
    public void Null_qemu_and_accelerator_in_the_record_mean_the_defaults()
    {
        Define("nulls", """{"Launch": {"Kernel": "/boot/vmlinux", "MemoryMB": 128, "CpuCount": 1, "Qemu": null, "Accelerator": null, "ExtraArguments": null}}""");

        var options = RecordedLaunch.Read(_root.Root, "nulls");

        Assert.Null(options.QemuPath);
        Assert.Equal("auto", options.Accelerator);
        Assert.Empty(options.ExtraArguments);
    }

    public static TheoryData<string, string, string> Refusals() => new()
    {
        // vm.json, error id, fragment of the message.
        { """{"Name": "web"}""", ErrorIds.NoLaunchDefinition, "has no recorded launch" },
        { "{ this is not json", ErrorIds.VmDefinitionInvalid, "is not a valid VM definition" },
        { "null", ErrorIds.VmDefinitionInvalid, "is not a valid VM definition" },
        { """{"Launch": {"Kernel": "vmlinux", "MemoryMB": 128, "CpuCount": 1}}""", ErrorIds.VmDefinitionInvalid, "Launch.Kernel is not an absolute path" },
        { """{"Launch": {"Disk": "", "MemoryMB": 128, "CpuCount": 1}}""", ErrorIds.VmDefinitionInvalid, "Launch.Disk is not an absolute path" },
        { """{"Launch": {"MemoryMB": 128, "CpuCount": 1}}""", ErrorIds.VmDefinitionInvalid, "give a kernel" },
        { """{"Launch": {"Kernel": "/k", "MemoryMB": 0, "CpuCount": 1}}""", ErrorIds.VmDefinitionInvalid, "memory must be between" },
        { """{"Launch": {"Kernel": "/k", "MemoryMB": 128, "CpuCount": 1, "Accelerator": "xen"}}""", ErrorIds.VmDefinitionInvalid, "accelerator must be" },
        { """{"Launch": {"Kernel": "/k", "MemoryMB": 128, "CpuCount": 1, "ExtraArguments": ["a\u0000b"]}}""", ErrorIds.VmDefinitionInvalid, "NUL" },
        { """{"Launch": {"Disk": "/d.img", "DiskFormat": "raw,backing.file.filename=/dev/sda", "MemoryMB": 128, "CpuCount": 1}}""", ErrorIds.VmDefinitionInvalid, "disk format must be" },
        { """{"Launch": {"Kernel": "/k", "DiskFormat": "raw", "MemoryMB": 128, "CpuCount": 1}}""", ErrorIds.VmDefinitionInvalid, "disk format must be" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_missing_damaged_or_unusable_record_is_a_clear_error(string json, string errorId, string fragment)
    {
        Define("web", json);

        var ex = Assert.Throws<CastraException>(() => RecordedLaunch.Read(_root.Root, "web"));

        Assert.Equal(errorId, ex.ErrorId);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        Assert.Equal("web", ex.Target);
    }

    [Fact]
    public void An_unknown_vm_is_not_found_and_names_how_to_start_a_new_one()
    {
        var ex = Assert.Throws<CastraException>(() => RecordedLaunch.Read(_root.Root, "nosuch", wording: new TestWording()));

        Assert.Equal(ErrorIds.VmNotFound, ex.ErrorId);
        Assert.Contains("<Kernel>", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_written_by_another_user_is_never_run()
    {
        var file = Define("web", Recorded);
        OtherUser.Own(file);

        var ex = Assert.Throws<CastraException>(() => RecordedLaunch.Read(_root.Root, "web"));

        Assert.Equal(ErrorIds.VmDefinitionUntrusted, ex.ErrorId);
        Assert.Equal(CastraErrorCategory.SecurityError, ex.Category);
    }

    [Fact]
    public void A_record_in_a_directory_another_user_owns_is_never_run()
    {
        Define("web", Recorded);
        OtherUser.Own(_root.Vm("web").Directory);

        var ex = Assert.Throws<CastraException>(() => RecordedLaunch.Read(_root.Root, "web"));

        Assert.Equal(ErrorIds.VmDefinitionUntrusted, ex.ErrorId);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_record_others_may_write_is_never_run()
    {
        // Root owns it, but anyone may rewrite it (chmod 666): its Qemu and ExtraArguments are anyone's choice.
        var file = Define("web", Recorded);
        File.SetUnixFileMode(file, (UnixFileMode)0x1B6);

        var ex = Assert.Throws<CastraException>(() => RecordedLaunch.Read(_root.Root, "web"));

        Assert.Equal(ErrorIds.VmDefinitionUntrusted, ex.ErrorId);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_record_in_a_directory_others_may_write_is_never_run()
    {
        // Root owns the directory, but its group may write it (chmod 775): they can replace vm.json by rename.
        Define("web", Recorded);
        File.SetUnixFileMode(_root.Vm("web").Directory, (UnixFileMode)0x1FD);

        var ex = Assert.Throws<CastraException>(() => RecordedLaunch.Read(_root.Root, "web"));

        Assert.Equal(ErrorIds.VmDefinitionUntrusted, ex.ErrorId);
    }

    [Fact]
    public void A_vm_json_that_is_a_link_is_refused_not_followed()
    {
        var elsewhere = Path.Combine(_root.Path, "elsewhere.json");
        File.WriteAllText(elsewhere, Recorded);
        Directory.CreateDirectory(_root.Vm("web").Directory);
        File.CreateSymbolicLink(_root.Vm("web").Definition, elsewhere);

        var ex = Assert.Throws<CastraException>(() => RecordedLaunch.Read(_root.Root, "web"));

        Assert.Equal(ErrorIds.VmDefinitionInvalid, ex.ErrorId);
    }

    private sealed class TestWording : Text.Wording
    {
        public override string Name(Text.Term term) => $"<{term}>";

        public override string StartCommand(string vm, bool guestAgent = false) => "start";

        public override string StopCommand(string vm) => "stop";
    }
}

using Castra.Errors;
using Castra.Shutdown;

namespace Castra.Launch;

/// <summary>How to start a VM (castra up / Start-CastraVm): boot a kernel (+initrd, optionally with a disk attached) or a disk image.</summary>
public sealed class LaunchOptions
{
    public string? Kernel { get; init; }

    /// <summary>The disk's format from a recorded launch (never probed again); null: probed with qemu-img.</summary>
    public string? DiskFormat { get; init; }

    public string? Initrd { get; init; }

    /// <summary>Kernel command line (only with <see cref="Kernel"/>).</summary>
    public string? Append { get; init; }

    public string? Disk { get; init; }

    /// <summary>Run on a throwaway qcow2 overlay of <see cref="Disk"/>, deleted once the VM has stopped.</summary>
    public bool Ephemeral { get; init; }

    public int MemoryMB { get; init; } = 512;

    public int CpuCount { get; init; } = 1;

    /// <summary>Add the virtio-serial guest agent channel on qga.sock.</summary>
    public bool GuestAgent { get; init; }

    /// <summary>Stored in vm.json: this VM's shutdown budgets (seconds).</summary>
    public double? CooperativeTimeoutSeconds { get; init; }

    public double? TermTimeoutSeconds { get; init; }

    public double? KillTimeoutSeconds { get; init; }

    /// <summary>Stored in vm.json: this VM's shutdown order (0 to 1000; lower stops first). Null keeps the recorded one.</summary>
    public int? ShutdownOrder { get; init; }

    /// <summary>Stored in vm.json: what follows this VM's cooperative step (null: keep what vm.json says).</summary>
    public ShutdownEscalation? Escalation { get; init; }

    /// <summary>Stored in vm.json: this VM's save timeout (seconds).</summary>
    public double? SaveTimeoutSeconds { get; init; }

    /// <summary>QEMU binary; default qemu-system-x86_64 from PATH.</summary>
    public string? QemuPath { get; init; }

    /// <summary>auto (KVM when /dev/kvm is usable, falling back to TCG), kvm, or tcg.</summary>
    public string Accelerator { get; init; } = "auto";

    /// <summary>Appended verbatim to QEMU's command line.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>
    /// Start afresh even when the VM has a saved image (it is removed). Without it, a VM with a saved image resumes
    /// from it when the definition matches, and the start is refused when it does not.
    /// </summary>
    public bool DiscardSavedState { get; init; }

    /// <summary>How long loading a saved image may take once QEMU is up.</summary>
    public TimeSpan ResumeTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long to wait for QEMU's QMP greeting after it daemonized.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <exception cref="CastraException">CastraInvalidLaunchOptions.</exception>
    public void Validate(Text.Wording? wording = null)
    {
        var w = wording ?? Text.Wording.Neutral;
        string? problem = null;
        if (Kernel is null && Disk is null)
        {
            problem = $"give a kernel ({w.Name(Text.Term.Kernel)}) or a disk image ({w.Name(Text.Term.Disk)}) to boot";
        }
        else if (Kernel is null && (Initrd is not null || Append is not null))
        {
            problem = $"{w.Name(Text.Term.Initrd)} and {w.Name(Text.Term.Append)} need {w.Name(Text.Term.Kernel)}";
        }
        else if (DiskFormat is not null && (Disk is null || DiskFormat.Length is 0 or > 32 || !DiskFormat.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))))
        {
            // It goes into -drive's option string: a comma would add options.
            problem = $"the disk format must be a QEMU format name (lowercase letters and digits), not '{DiskFormat}'";
        }
        else if (Ephemeral && Disk is null)
        {
            problem = $"{w.Name(Text.Term.Ephemeral)} needs {w.Name(Text.Term.Disk)}";
        }
        else if (MemoryMB is < 16 or > 1_048_576)
        {
            problem = $"memory must be between 16 and 1048576 MiB, not {MemoryMB}";
        }
        else if (CpuCount is < 1 or > 1024)
        {
            problem = $"CPU count must be between 1 and 1024, not {CpuCount}";
        }
        else if (Accelerator is not ("auto" or "kvm" or "tcg"))
        {
            problem = $"accelerator must be auto, kvm or tcg, not '{Accelerator}'";
        }
        else if (new[] { CooperativeTimeoutSeconds, TermTimeoutSeconds, KillTimeoutSeconds, SaveTimeoutSeconds }.Any(s => s is { } v && !ShutdownTimeouts.IsValidSeconds(v)))
        {
            problem = $"timeouts must be more than 0 and at most {ShutdownTimeouts.MaxSeconds} seconds";
        }
        else if (ShutdownOrder is { } order && !Shutdown.ShutdownOrder.IsValid(order))
        {
            problem = $"{w.Name(Text.Term.ShutdownOrder)} must be between {Shutdown.ShutdownOrder.Min} and {Shutdown.ShutdownOrder.Max}, not {order}";
        }

        if (problem is not null)
        {
            throw new CastraException(ErrorIds.InvalidLaunchOptions, CastraErrorCategory.InvalidArgument, problem);
        }
    }
}

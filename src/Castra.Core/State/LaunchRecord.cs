namespace Castra.State;

/// <summary>What <c>castra up</c> started, recorded in vm.json.</summary>
public sealed class LaunchRecord
{
    public string? Kernel { get; set; }

    public string? Initrd { get; set; }

    public string? Append { get; set; }

    public string? Disk { get; set; }

    /// <summary>
    /// The disk image's format as probed at this launch (for an ephemeral VM, its base image's), pinned by a start
    /// from this record: probing again would let whoever can write the image turn it into a qcow2 with a host file as
    /// its backing file, which QEMU (root at boot) would open. Absent in records of earlier versions (then probed).
    /// </summary>
    public string? DiskFormat { get; set; }

    public bool Ephemeral { get; set; }

    public int MemoryMB { get; set; }

    public int CpuCount { get; set; }

    public bool GuestAgent { get; set; }

    public string Accelerator { get; set; } = "";

    public string Qemu { get; set; } = "";

    public DateTime LaunchedAt { get; set; }

    /// <summary>QEMU's whole command line as it was run (informational).</summary>
    public List<string> Arguments { get; set; } = [];

    /// <summary>
    /// The caller's extra QEMU arguments (after <c>--</c> / -ArgumentList), replayed by a start from this record.
    /// Absent in records written before Castra recorded them: such a start runs without extra arguments.
    /// </summary>
    public List<string>? ExtraArguments { get; set; }
}

namespace Castra.State;

/// <summary>What <c>castra up</c> started, recorded in vm.json.</summary>
public sealed class LaunchRecord
{
    public string? Kernel { get; set; }

    public string? Initrd { get; set; }

    public string? Append { get; set; }

    public string? Disk { get; set; }

    public bool Ephemeral { get; set; }

    public int MemoryMB { get; set; }

    public int CpuCount { get; set; }

    public bool GuestAgent { get; set; }

    public string Accelerator { get; set; } = "";

    public string Qemu { get; set; } = "";

    public DateTime LaunchedAt { get; set; }

    public List<string> Arguments { get; set; } = [];
}

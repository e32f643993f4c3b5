namespace Castra.State;

/// <summary>What <c>castra ps</c> / Get-CastraVm report for a VM.</summary>
public enum VmState
{
    /// <summary>Its QEMU is running (identity proven).</summary>
    Running,

    /// <summary>No QEMU: no pidfile.</summary>
    Stopped,

    /// <summary>A shutdown is in progress (its owner is alive).</summary>
    ShuttingDown,

    /// <summary>A pidfile exists but names no running QEMU of this VM (crashed, killed, or PID reused).</summary>
    Stale,

    /// <summary>Castra cannot tell: its directory or state files were refused (a link, another user's file); Detail says why.</summary>
    Unknown,
}

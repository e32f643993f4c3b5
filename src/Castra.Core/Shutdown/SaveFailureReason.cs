namespace Castra.Shutdown;

/// <summary>Why a save did not complete (<c>SaveFailed.Reason</c>).</summary>
public enum SaveFailureReason
{
    /// <summary>The save timeout ran out before QEMU finished writing the state.</summary>
    TimeoutExpired,

    /// <summary>QEMU reported the migration failed (its error-desc is the detail, e.g. no space left on device), or refused a command of the save.</summary>
    MigrationFailed,

    /// <summary>Castra could not create or commit the image file in the VM's directory.</summary>
    WriteError,

    /// <summary>QMP could not be used (no socket, a refused connection, no reply, a malformed or hostile reply).</summary>
    ChannelError,

    /// <summary>The VM was not started by Castra (vm.json records no launch): a saved image could never be resumed.</summary>
    NotResumable,
}

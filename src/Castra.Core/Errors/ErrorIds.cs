namespace Castra.Errors;

/// <summary>Stable error identifiers. Scripts match on these; never rename one.</summary>
public static class ErrorIds
{
    public const string InvalidVmName = "CastraInvalidVmName";
    public const string VmNotFound = "CastraVmNotFound";
    public const string SocketPathTooLong = "CastraSocketPathTooLong";
    public const string InvalidTimeout = "CastraInvalidTimeout";
    public const string InvalidStateRoot = "CastraInvalidStateRoot";

    /// <summary>The state root does not exist (a misspelt CASTRA_HOME, a task without HOME): nothing to act on.</summary>
    public const string StateRootNotFound = "CastraStateRootNotFound";

    /// <summary>Every VM was to be stopped, and the state root holds none (a warning: nothing was done).</summary>
    public const string NoVms = "CastraNoVms";

    /// <summary>Another process is already shutting the VM down: this call follows it (a warning naming the owner and what of this call's options is ignored).</summary>
    public const string Following = "CastraShutdownFollowing";

    /// <summary>Not an error: the id of trace diagnostics (how a run decided what it did), shown as verbose output.</summary>
    public const string Trace = "CastraTrace";

    /// <summary>Not an error: a trace diagnostic saying a VM waits for an earlier group of the shutdown order (progress shows it waiting).</summary>
    public const string WaitingForGroup = "CastraWaitingForGroup";
    public const string VmDefinitionInvalid = "CastraVmDefinitionInvalid";
    public const string StalePidFile = "CastraStalePidFile";
    public const string IdentityDisputed = "CastraIdentityDisputed";
    public const string StopFailed = "CastraVmStopFailed";
    public const string ShutdownCancelled = "CastraShutdownCancelled";
    public const string ShutdownInterruptedTakeover = "CastraShutdownTakeover";
    public const string LockBusy = "CastraShutdownLockBusy";
    public const string FollowTimeout = "CastraShutdownFollowTimeout";
    public const string StatusUnreadable = "CastraStatusUnreadable";
    public const string InvalidLaunchOptions = "CastraInvalidLaunchOptions";
    public const string VmAlreadyRunning = "CastraVmAlreadyRunning";

    /// <summary>A start from the recorded definition: vm.json records no launch (a bring-your-own VM, or never started by Castra).</summary>
    public const string NoLaunchDefinition = "CastraNoLaunchDefinition";

    /// <summary>A start from the recorded definition: vm.json (or its directory) is owned by someone other than root or the caller.</summary>
    public const string VmDefinitionUntrusted = "CastraVmDefinitionUntrusted";

    /// <summary>Wait-CastraVm / castra wait: the VM was not ready to cooperate within the timeout.</summary>
    public const string VmNotReady = "CastraVmNotReady";
    public const string VmShuttingDown = "CastraVmShuttingDown";
    public const string VmBusy = "CastraVmBusy";
    public const string QemuNotInstalled = "CastraQemuNotInstalled";
    public const string LaunchFileNotFound = "CastraLaunchFileNotFound";
    public const string LaunchFailed = "CastraLaunchFailed";
    public const string DeadlineExceeded = "CastraDeadlineExceeded";

    /// <summary>A shutdown order outside 0 to 1000 (Set-CastraVm, castra set; the faces' parsers refuse it first).</summary>
    public const string InvalidShutdownOrder = "CastraInvalidShutdownOrder";
    public const string InvalidHook = "CastraInvalidHook";
    public const string HookExecutableNotFound = "CastraHookExecutableNotFound";
    public const string HookExists = "CastraHookExists";
    public const string HookNotFound = "CastraHookNotFound";
    public const string HookAmbiguous = "CastraHookAmbiguous";
    public const string HookFailed = "CastraHookFailed";
    public const string VmNotRunning = "CastraVmNotRunning";
    public const string SessionStartFailed = "CastraSessionStartFailed";
    public const string InvalidSessionCommand = "CastraInvalidSessionCommand";
    public const string Unexpected = "CastraUnexpectedError";

    /// <summary>A path under the state root that Castra refuses: a link, not a regular file, too large, hard-linked, or not owned by root or the caller.</summary>
    public const string UnsafeStateFile = "CastraUnsafeStateFile";

    /// <summary>A VM appeared under the state root while every VM was being stopped (and kept appearing).</summary>
    public const string VmAppeared = "CastraVmAppeared";

    /// <summary>The host-shutdown unit's settings are invalid (a relative path, a bad unit name, a margin out of range).</summary>
    public const string InvalidHostShutdownUnit = "CastraInvalidHostShutdownUnit";

    /// <summary>A unit file of that name exists and Castra did not write it: never overwritten without -Force/--force, never removed.</summary>
    public const string HostShutdownUnitForeign = "CastraHostShutdownUnitForeign";

    /// <summary>No host-shutdown unit of that name to remove.</summary>
    public const string HostShutdownUnitNotFound = "CastraHostShutdownUnitNotFound";

    /// <summary>systemctl (daemon-reload, enable, disable) failed or did not answer in time.</summary>
    public const string SystemctlFailed = "CastraSystemctlFailed";

    /// <summary>The castra executable the unit would run cannot be found or is not an absolute path to a file.</summary>
    public const string CastraCliNotFound = "CastraCliNotFound";

    /// <summary>Options of one call that contradict each other (e.g. a save together with turning the VM off).</summary>
    public const string InvalidArgument = "CastraInvalidArgument";

    /// <summary>-Save / --save: the guest's state could not be saved (the VM was left running).</summary>
    public const string SaveFailed = "CastraSaveFailed";

    /// <summary>-Save / --save on a VM Castra did not start: an image could never be resumed, so none is written.</summary>
    public const string SaveNotResumable = "CastraSaveNotResumable";

    /// <summary>A start found a saved image taken with a different definition (and was not told to discard it).</summary>
    public const string SavedStateMismatch = "CastraSavedStateMismatch";

    /// <summary>A start could not resume the VM from its saved image (the image is kept).</summary>
    public const string ResumeFailed = "CastraResumeFailed";
}

namespace Castra.Hooks;

/// <summary>What a failing or timed-out hook does to the rest of the shutdown.</summary>
public enum HookErrorAction
{
    /// <summary>Report it and go on (the default): one hook never blocks the others or the shutdown.</summary>
    Continue,

    /// <summary>A failing PreStop hook aborts the shutdown before anything is sent to the guest; the VM keeps running.</summary>
    Stop,
}

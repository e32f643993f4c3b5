namespace Castra.Cli;

/// <summary>Process exit codes (documented in docs/cli.md). Scripts and systemd units depend on them.</summary>
internal static class ExitCodes
{
    /// <summary>Every targeted VM is stopped (including ones that already were).</summary>
    public const int Success = 0;

    /// <summary>At least one VM could not be stopped (Failed, lock busy, owner overran its deadline).</summary>
    public const int NotStopped = 1;

    /// <summary>
    /// Every other command: the request was refused or failed, nothing changed (a hook of that name exists, the VM is not
    /// running or is shutting down, hooks.json is unreadable).
    /// </summary>
    public const int Refused = 1;

    /// <summary>castra wait: at least one VM was not ready within --timeout. castra restart: at least one VM was not started again.</summary>
    public const int NotReady = 1;

    /// <summary>The command line is wrong (unknown option, bad value, no VM named).</summary>
    public const int Usage = 2;

    /// <summary>At least one named VM does not exist or has an invalid name; every other VM was handled.</summary>
    public const int UnknownVm = 3;

    /// <summary>castra hook remove: no hook of that name (and --vm) is registered.</summary>
    public const int NotFound = 3;

    /// <summary>--deadline: some VM's worst case exceeds it; nothing was started.</summary>
    public const int DeadlineExceeded = 4;

    /// <summary>Interrupted (Ctrl+C / SIGINT / SIGTERM): waiting stopped and no further signal was sent.</summary>
    public const int Interrupted = 130;
}

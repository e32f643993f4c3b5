using Castra.Errors;
using Castra.Processes;
using Castra.Shutdown;

namespace Castra.State;

/// <summary>Reads shutdown.json without taking any lock, so it works while another process is shutting the VM down.</summary>
public static class ShutdownStatusReader
{
    public const string InProgress = nameof(InProgress);
    public const string Complete = nameof(Complete);
    public const string Interrupted = nameof(Interrupted);

    /// <summary>Null when the VM has never been shut down by Castra.</summary>
    /// <exception cref="CastraException">ErrorId CastraStatusUnreadable.</exception>
    public static ShutdownStatus? Read(VmPaths vm)
    {
        StatusDocument? document;
        var saved = false;
        try
        {
            using var dir = VmDirectory.TryOpen(vm);
            document = dir is null ? null : StatusStore.TryRead(dir);
            saved = dir is not null && SavedStateStore.Exists(dir);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CastraException(ErrorIds.StatusUnreadable, CastraErrorCategory.ReadError, ex.Message, ex) { Target = vm.Name };
        }

        return document is null ? null : ToStatus(document) with { StateRoot = vm.Root.Path, SavedState = saved };
    }

    internal static ShutdownStatus ToStatus(StatusDocument d)
    {
        var complete = d.Phase == ContractNames.Of(ShutdownPhase.Complete);
        var state = complete ? Complete : OwnerProcess.IsAlive(d.OwnerPid, d.OwnerStartTime) ? InProgress : Interrupted;
        var remaining = state == InProgress ? Math.Max(0, (long)(d.Deadline - DateTime.UtcNow).TotalMilliseconds) : 0;
        return new ShutdownStatus
        {
            VmName = d.VmName,
            ShutdownId = d.ShutdownId,
            State = state,
            Phase = d.Phase,
            Reason = d.Reason,
            Message = d.Message,
            Force = d.Force,
            StartedAt = d.StartedAt,
            UpdatedAt = d.UpdatedAt,
            Deadline = d.Deadline,
            RemainingMs = remaining,
            OwnerPid = d.OwnerPid,
            OwnerHost = d.OwnerHost,
            QemuPid = d.QemuPid,
            CooperativeTimeoutMs = d.CooperativeTimeoutMs,
            TermTimeoutMs = d.TermTimeoutMs,
            KillTimeoutMs = d.KillTimeoutMs,
            HooksTotal = d.HooksTotal,
            HooksCompleted = d.HooksCompleted,
            RunningHooks = d.RunningHooks,
            SessionsInterrupted = d.SessionsInterrupted,
            SaveStatePath = d.SaveStatePath,
            Outcome = d.Outcome,
            Changed = d.Changed,
            TotalMs = d.TotalMs,
            CompletedAt = d.CompletedAt,
            Detail = d.Detail,
            TakeoverOf = d.TakeoverOf,
        };
    }
}

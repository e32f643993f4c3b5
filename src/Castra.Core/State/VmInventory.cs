using Castra.Errors;
using Castra.Processes;
using Castra.Shutdown;

namespace Castra.State;

/// <summary>Describes VMs under a state root. Read-only: it never signals or removes anything.</summary>
public static class VmInventory
{
    public static async Task<IReadOnlyList<VmInfo>> ListAsync(StateRoot root, CancellationToken cancellationToken = default)
    {
        var names = root.ListVmNames();
        return await Task.WhenAll(names.Select(name => DescribeOrExplainAsync(root.Vm(name), cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>One VM that cannot be described (a refused directory) shows as Unknown with the reason, never hides the rest.</summary>
    private static async Task<VmInfo> DescribeOrExplainAsync(VmPaths vm, CancellationToken cancellationToken)
    {
        try
        {
            return await DescribeAsync(vm, cancellationToken).ConfigureAwait(false);
        }
        catch (CastraException ex) when (ex.ErrorId != ErrorIds.VmNotFound)
        {
            return new VmInfo { Name = vm.Name, State = nameof(VmState.Unknown), Directory = vm.Directory, StateRoot = vm.Root.Path, Detail = ex.Message };
        }
    }

    /// <exception cref="CastraException">ErrorId CastraVmNotFound.</exception>
    /// <exception cref="CastraException">ErrorId CastraUnsafeStateFile: the VM's directory is a link or unusable.</exception>
    public static async Task<VmInfo> DescribeAsync(VmPaths vm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vm);
        VmDirectory? opened;
        try
        {
            opened = VmDirectory.TryOpen(vm);
        }
        catch (IOException ex)
        {
            throw StateFileError.For(vm, ex);
        }

        using var dir = opened ?? throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound,
            $"No VM named '{vm.Name}' under {vm.Root.Path}.") { Target = vm.Name };

        StatusDocument? last = null;
        try
        {
            last = StatusStore.TryRead(dir);
        }
        catch (InvalidDataException)
        {
        }

        var definition = VmDefinitionStore.ReadOrNull(dir);

        var located = await ProcessLocator.LocateAsync(dir, definition, usePidfd: true, cancellationToken).ConfigureAwait(false);
        using var process = located.Process;

        var shuttingDown = last?.IsInProgress() == true;
        var state = located.Verdict switch
        {
            _ when shuttingDown && located.Verdict == Processes.IdentityVerdict.Verified => VmState.ShuttingDown,
            null => VmState.Stopped,
            IdentityVerdict.Verified => VmState.Running,
            _ => VmState.Stale,
        };

        DateTime? startedAt = null;
        long? uptime = null;
        if (state is VmState.Running or VmState.ShuttingDown && located.Pid is { } pid && ProcStat.TryRead(pid) is { } stat)
        {
            startedAt = HostClock.ToWallClock(stat.StartTime);
            uptime = startedAt is { } s ? Math.Max(0, (long)(DateTime.UtcNow - s).TotalMilliseconds) : null;
        }

        var completed = last is not null && last.Phase == ContractNames.Of(ShutdownPhase.Complete);
        return new VmInfo
        {
            Name = vm.Name,
            State = state.ToString(),
            Pid = state is VmState.Running or VmState.ShuttingDown ? located.Pid : null,
            Qmp = dir.HasSocket(VmDirectory.QmpSocketName),
            Agent = dir.HasSocket(VmDirectory.AgentSocketName),
            StartedAt = startedAt,
            UptimeMs = uptime,
            LastOutcome = completed ? last!.Outcome : null,
            LastShutdownAt = completed ? last!.CompletedAt : null,
            SavedState = SavedStateStore.Exists(dir),
            Directory = vm.Directory,
            StateRoot = vm.Root.Path,
            Detail = state == VmState.Stale ? located.Detail : null,
            ShutdownOrder = Shutdown.ShutdownOrder.Of(definition),
        };
    }
}

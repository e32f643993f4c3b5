using Castra.Errors;
using Castra.Hooks;
using Castra.Sessions;

namespace Castra.Shutdown.Plan;

/// <summary>
/// Decides, once, what a VM's shutdown does, from what was found: its QEMU (running, gone, stale, disputed), its
/// running guest sessions, its hooks, the resolved timeouts and the call's options; for a preview, also what the
/// channel pre-flight found. The only place these rules live.
/// </summary>
internal static class ShutdownPlanBuilder
{
    public static ShutdownPlan Build(
        string vmName, QemuFound found, string foundDetail, IReadOnlyList<VmSession> sessions, HookSelection hooks,
        ShutdownTimeouts timeouts, ShutdownOptions options, ChannelDecision? expected = null)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        ArgumentNullException.ThrowIfNull(options);
        var steps = new List<PlanStep>();

        // Sessions belong to a VM being stopped, whatever is found of its QEMU: they are interrupted first.
        if (sessions.Count > 0)
        {
            steps.Add(new DrainSessionsStep(sessions, options.DrainTimeout));
        }

        switch (found)
        {
            case QemuFound.Running:
                if (hooks.Failure is not null && options.HookErrorAction == HookErrorAction.Stop)
                {
                    // The hooks asked to guard this stop cannot be read: nothing is sent to the guest.
                    steps.Add(new FailStep($"{hooks.Failure}; the shutdown was aborted before anything was sent to the guest (HookErrorAction Stop)",
                        ErrorIds.InvalidHook, CastraErrorCategory.InvalidData));
                    break;
                }

                // -TurnOff: no guest to prepare, so no PreStop hooks.
                if (!options.Force)
                {
                    steps.AddRange(Phases(HookStage.PreStop, hooks.PreStop));
                }

                if (options.Save)
                {
                    // Save instead of power off: the guest is not asked; a failed save ends the run with the VM running.
                    // The signals run only for a QEMU that outlived its quit after the image was committed.
                    steps.Add(new SaveStep(options.EffectiveSaveTimeout, Escalation: false));
                    steps.Add(new SignalStep(ProcessSignal.Term, timeouts.Term));
                    steps.Add(new SignalStep(ProcessSignal.Kill, timeouts.Kill));
                }
                else
                {
                    steps.Add(new CooperateStep(options.Force ? TimeSpan.Zero : timeouts.Cooperative, options.Force, expected));
                    if (options.Escalation == ShutdownEscalation.Save)
                    {
                        steps.Add(new SaveStep(options.EffectiveSaveTimeout, Escalation: true));
                    }

                    steps.Add(new SignalStep(ProcessSignal.Term, timeouts.Term));
                    steps.Add(new SignalStep(ProcessSignal.Kill, timeouts.Kill));
                }

                steps.AddRange(Phases(HookStage.PostStop, hooks.PostStop));
                break;

            case QemuFound.Exited:
                // QEMU died without a shutdown: what its PostStop hooks release was never released. No guest to prepare.
                steps.AddRange(Phases(HookStage.PostStop, hooks.PostStop));
                break;

            case QemuFound.Disputed:
                // Signalling might hit an unrelated process, doing nothing might leave the VM running: neither is Castra's call.
                steps.Add(new FailStep(foundDetail, ErrorIds.IdentityDisputed, CastraErrorCategory.SecurityError));
                break;
        }

        return new ShutdownPlan(vmName, found, foundDetail, timeouts, steps);
    }

    /// <summary>One step per priority, ascending; the hooks of a priority by name.</summary>
    private static IEnumerable<PlanStep> Phases(HookStage stage, IReadOnlyList<CleanupHook> hooks) =>
        hooks.GroupBy(h => h.Priority).OrderBy(g => g.Key)
            .Select(g => new HookPhaseStep(stage, g.Key, [.. g.OrderBy(h => h.Name, StringComparer.Ordinal)]));
}

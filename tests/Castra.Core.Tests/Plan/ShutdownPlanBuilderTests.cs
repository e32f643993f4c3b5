using Castra.Errors;
using Castra.Hooks;
using Castra.Processes;
using Castra.Sessions;
using Castra.Shutdown;
using Castra.Shutdown.Plan;

namespace Castra.Tests.Plan;

/// <summary>The rules that decide a VM's sequence, in the one place they live: what steps, in what order, with what budgets.</summary>
public sealed class ShutdownPlanBuilderTests
{
    private static readonly ShutdownTimeouts Timeouts = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5));
    private static readonly TimeSpan Graces = GroupLeader.Grace + GroupLeader.Grace;

    private static CleanupHook Hook(string name, HookStage stage, int priority, long timeoutMs) =>
        new() { Name = name, Stage = stage.ToString(), Priority = priority, TimeoutMs = timeoutMs };

    private static readonly HookSelection Hooks = new(
        [Hook("b-flush", HookStage.PreStop, 50, 3_000), Hook("a-export", HookStage.PreStop, 50, 7_000), Hook("notify", HookStage.PreStop, 200, 1_000)],
        [Hook("release", HookStage.PostStop, 100, 4_000)]);

    private static readonly IReadOnlyList<VmSession> OneSession = [new VmSession { RunId = "r1", VmName = "web", Pid = 1 }];

    private static string Shape(ShutdownPlan plan) => string.Join(" | ", plan.Steps.Select(s => s switch
    {
        DrainSessionsStep d => $"drain {d.Sessions.Count}",
        HookPhaseStep h => $"{h.Stage} {h.Priority}: {string.Join(",", h.Hooks.Select(x => x.Name))}",
        CooperateStep c => c.Skipped ? "cooperate skipped" : "cooperate",
        SignalStep g => g.Signal.ContractName(),
        SaveStep v => v.Escalation ? "save (escalation)" : "save",
        FailStep f => $"fail {f.ErrorId}",
        _ => s.GetType().Name,
    }));

    [Fact]
    public void A_running_VM_drains_runs_PreStop_by_priority_asks_the_guest_escalates_then_runs_PostStop()
    {
        var plan = ShutdownPlanBuilder.Build("web", QemuFound.Running, "proven", OneSession, Hooks, Timeouts, new ShutdownOptions { DrainTimeout = TimeSpan.FromSeconds(20) });

        Assert.Equal("drain 1 | PreStop 50: a-export,b-flush | PreStop 200: notify | cooperate | SIGTERM | SIGKILL | PostStop 100: release", Shape(plan));
        Assert.Equal(
            [StepSection.Prepare, StepSection.Prepare, StepSection.Prepare, StepSection.Stop, StepSection.Stop, StepSection.Stop, StepSection.Release],
            plan.Steps.Select(s => s.Section));

        // Each priority costs its longest hook plus the two graces; every step's budget adds up to the worst case.
        var expected = TimeSpan.FromSeconds(20) + Graces
            + TimeSpan.FromSeconds(7) + Graces + TimeSpan.FromSeconds(1) + Graces
            + TimeSpan.FromSeconds(60) + TimeSpan.FromSeconds(10) + TimeSpan.FromSeconds(5)
            + TimeSpan.FromSeconds(4) + Graces;
        Assert.Equal(expected, plan.WorstCase);
        Assert.Equal(4, plan.HookCount);
    }

    [Fact]
    public void Escalation_Save_puts_a_save_between_the_cooperative_step_and_SIGTERM_and_counts_its_budget()
    {
        var plan = ShutdownPlanBuilder.Build("web", QemuFound.Running, "proven", [], HookSelection.None, Timeouts,
            new ShutdownOptions { Escalation = ShutdownEscalation.Save, SaveTimeout = TimeSpan.FromSeconds(12) });

        Assert.Equal("cooperate | save (escalation) | SIGTERM | SIGKILL", Shape(plan));
        Assert.Equal(TimeSpan.FromSeconds(60) + TimeSpan.FromSeconds(12) + StateSaver.CleanupGrace + TimeSpan.FromSeconds(15), plan.WorstCase);
        var preview = PlanPreview.Of(plan, 42, HookSelection.None, "running", TimeSpan.FromSeconds(80), Castra.Text.Wording.Neutral);
        Assert.Equal(12_000, preview.SaveTimeoutMs);
        Assert.Contains("save to saved-state.img (≤12s)", preview.Steps, StringComparison.Ordinal);
        Assert.True(preview.ExceedsDeadline, "60 + 12 + 2 + 15 s is more than 80 s");
    }

    [Fact]
    public void Save_replaces_the_cooperative_step_and_keeps_the_hooks()
    {
        var plan = ShutdownPlanBuilder.Build("web", QemuFound.Running, "proven", [], Hooks, Timeouts, new ShutdownOptions { Save = true });

        // The signals follow only a QEMU that outlived its quit once the state was saved (a failed save ends the run).
        Assert.Equal("PreStop 50: a-export,b-flush | PreStop 200: notify | save | SIGTERM | SIGKILL | PostStop 100: release", Shape(plan));
        Assert.Equal(TimeSpan.FromSeconds(7) + Graces + TimeSpan.FromSeconds(1) + Graces + ShutdownOptions.DefaultSaveTimeout + StateSaver.CleanupGrace + TimeSpan.FromSeconds(15) + TimeSpan.FromSeconds(4) + Graces, plan.WorstCase);
    }

    [Fact]
    public void The_VMs_own_escalation_applies_unless_the_call_names_one()
    {
        var definition = new Castra.State.VmDefinition { Escalation = "save", SaveTimeoutSeconds = 12 };

        var own = new ShutdownOptions().ResolveFor(definition);
        Assert.Equal((ShutdownEscalation.Save, TimeSpan.FromSeconds(12)), (own.Escalation, own.EffectiveSaveTimeout));
        var call = new ShutdownOptions { Escalation = ShutdownEscalation.Signals, SaveTimeout = TimeSpan.FromSeconds(3) }.ResolveFor(definition);
        Assert.Equal((ShutdownEscalation.Signals, TimeSpan.FromSeconds(3)), (call.Escalation, call.EffectiveSaveTimeout));
        var none = new ShutdownOptions().ResolveFor(null);
        Assert.Equal((ShutdownEscalation.Signals, ShutdownOptions.DefaultSaveTimeout), (none.Escalation, none.EffectiveSaveTimeout));
        Assert.Throws<System.Text.Json.JsonException>(() => new ShutdownOptions().ResolveFor(new Castra.State.VmDefinition { Escalation = "1" }));
        Assert.Throws<System.Text.Json.JsonException>(() => new ShutdownOptions().ResolveFor(new Castra.State.VmDefinition { Escalation = "hibernate" }));
    }

    [Fact]
    public void Save_and_TurnOff_together_are_refused_before_anything_runs()
    {
        var ex = Assert.Throws<Castra.Errors.CastraException>(() => new ShutdownOptions { Save = true, Force = true }.Validate());
        Assert.Equal(Castra.Errors.ErrorIds.InvalidArgument, ex.ErrorId);
    }

    [Fact]
    public void TurnOff_skips_the_PreStop_hooks_and_the_window_but_keeps_the_drain_and_PostStop()
    {
        var plan = ShutdownPlanBuilder.Build("web", QemuFound.Running, "proven", OneSession, Hooks, Timeouts, new ShutdownOptions { Force = true, DrainTimeout = TimeSpan.Zero });

        Assert.Equal("drain 1 | cooperate skipped | SIGTERM | SIGKILL | PostStop 100: release", Shape(plan));
        Assert.Equal(Graces + TimeSpan.FromSeconds(15) + TimeSpan.FromSeconds(4) + Graces, plan.WorstCase);
    }

    [Fact]
    public void A_QEMU_that_died_on_its_own_gets_only_its_PostStop_hooks_and_a_stopped_one_nothing()
    {
        var exited = ShutdownPlanBuilder.Build("web", QemuFound.Exited, "gone", [], Hooks with { PreStop = [] }, Timeouts, new ShutdownOptions());
        Assert.Equal("PostStop 100: release", Shape(exited));

        var stopped = ShutdownPlanBuilder.Build("web", QemuFound.NotRunning, "no pidfile", [], HookSelection.None, Timeouts, new ShutdownOptions());
        Assert.Empty(stopped.Steps);
        Assert.Equal(TimeSpan.Zero, stopped.WorstCase);

        var stale = ShutdownPlanBuilder.Build("web", QemuFound.Stale, "not ours", OneSession, HookSelection.None, Timeouts, new ShutdownOptions { DrainTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal("drain 1", Shape(stale));
    }

    [Fact]
    public void A_disputed_identity_and_unreadable_hooks_under_Stop_refuse_after_the_drain_and_touch_nothing_else()
    {
        var disputed = ShutdownPlanBuilder.Build("web", QemuFound.Disputed, "two claims", OneSession, HookSelection.None, Timeouts, new ShutdownOptions());
        Assert.Equal($"drain 1 | fail {ErrorIds.IdentityDisputed}", Shape(disputed));

        var unreadable = new HookSelection([], [], "hooks.json is not JSON");
        var refused = ShutdownPlanBuilder.Build("web", QemuFound.Running, "proven", [], unreadable, Timeouts, new ShutdownOptions { HookErrorAction = HookErrorAction.Stop });
        Assert.Equal($"fail {ErrorIds.InvalidHook}", Shape(refused));
        Assert.StartsWith("hooks.json is not JSON; the shutdown was aborted before anything was sent to the guest", Assert.IsType<FailStep>(refused.Steps[0]).Detail, StringComparison.Ordinal);

        // Under Continue the run goes on without hooks (the warning is the caller's).
        var goesOn = ShutdownPlanBuilder.Build("web", QemuFound.Running, "proven", [], unreadable, Timeouts, new ShutdownOptions());
        Assert.Equal("cooperate | SIGTERM | SIGKILL", Shape(goesOn));
    }

    [Fact]
    public void A_preview_that_found_no_channel_budgets_no_window_and_a_broken_one_the_whole_window()
    {
        var none = new ChannelDecision(CooperativeChannel.Unavailable, CooperativeFailureReason.ChannelUnavailable, "no qmp.sock");
        var broken = new ChannelDecision(CooperativeChannel.Acpi, CooperativeFailureReason.ChannelError, "refused");

        Assert.Equal(TimeSpan.FromSeconds(15), ShutdownPlanBuilder.Build("web", QemuFound.Running, "", [], HookSelection.None, Timeouts, new ShutdownOptions(), none).WorstCase);
        Assert.Equal(TimeSpan.FromSeconds(75), ShutdownPlanBuilder.Build("web", QemuFound.Running, "", [], HookSelection.None, Timeouts, new ShutdownOptions(), broken).WorstCase);

        // A run decides its channel inside the window, so its own plan always budgets the whole window.
        Assert.Equal(TimeSpan.FromSeconds(75), ShutdownPlanBuilder.Build("web", QemuFound.Running, "", [], HookSelection.None, Timeouts, new ShutdownOptions()).WorstCase);
    }
}

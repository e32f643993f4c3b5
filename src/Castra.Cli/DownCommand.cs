using System.CommandLine;
using System.Globalization;
using Castra.Errors;
using Castra.Events;
using Castra.Hooks;
using Castra.Serialization;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra down</c>: stop VMs through the engine and print each event as it happens.</summary>
internal static class DownCommand
{
    public static Command Create()
    {
        var names = CommonOptions.Names("VMs to stop");
        var all = new Option<bool>("--all") { Description = "Stop every VM under the state root" };
        var cooperative = SecondsOption.Create("--cooperative-timeout", "How long the guest gets to power off by itself (default: vm.json, else 60)", ShutdownTimeouts.MaxSeconds);
        var term = SecondsOption.Create("--term-timeout", "How long to wait after SIGTERM (default: vm.json, else 10)", ShutdownTimeouts.MaxSeconds);
        var kill = SecondsOption.Create("--kill-timeout", "How long to wait after SIGKILL (default: vm.json, else 5)", ShutdownTimeouts.MaxSeconds);
        var method = new Option<CooperativeMethod>("--method") { Description = "Auto (guest agent if it answers, else ACPI), Acpi or Agent", DefaultValueFactory = _ => CooperativeMethod.Auto };
        var force = new Option<bool>("--force") { Description = "Skip the cooperative step: SIGTERM, then SIGKILL" };
        var reason = new Option<ShutdownReason>("--reason") { Description = "Why, recorded in ShutdownRequested: UserRequested (default), SystemShutdown, Administrative, Maintenance, Unhealthy, IdleTimeout, ResourceLimitExceeded, Replaced", DefaultValueFactory = _ => ShutdownReason.UserRequested, HelpName = "REASON" };
        var message = new Option<string?>("--message") { Description = "Free text recorded in ShutdownRequested" };
        var throttle = new Option<int>("--throttle") { Description = "At most N VMs at once (0: no limit)", HelpName = "N" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (channel per VM after a read-only pre-flight look, budgets, worst case) and change nothing" };
        var deadline = SecondsOption.Create("--deadline", "Refuse to start (exit 4) if any VM's worst case exceeds this many seconds", ShutdownTimeouts.MaxFollow.TotalSeconds);
        var hookError = new Option<HookErrorAction>("--hook-error") { Description = "Continue (default): a failing hook is reported and the shutdown goes on; Stop: a failing PreStop hook aborts the VM's shutdown before the guest is asked (the VM keeps running)", DefaultValueFactory = _ => HookErrorAction.Continue, HelpName = "continue|stop" };
        var drain = SecondsOption.Create("--drain-timeout", "How long guest sessions get after SIGINT before SIGTERM (0 to 86400, default 10)", ShutdownTimeouts.MaxSeconds, allowZero: true);
        var save = new Option<bool>("--save") { Description = "Save instead of power off: pause the guest, write its whole state to the VM's saved-state.img, end QEMU (outcome Saved); the next castra up resumes it. A failed save leaves the VM running" };
        var escalation = new Option<ShutdownEscalation?>("--escalation") { Description = "What follows a cooperative step that did not stop the VM: signals (SIGTERM, then SIGKILL) or save (save the state first; the signals only if that fails). Default: vm.json, else signals", HelpName = "signals|save" };
        var saveTimeout = SecondsOption.Create("--save-timeout", "How long a save (--save, --escalation save) may take (default: vm.json, else 30)", ShutdownTimeouts.MaxSeconds);
        var saveState = new Option<bool>("--save-state") { Description = "Write a debug snapshot per VM (shutdown-<ShutdownId>.snapshot.json in its directory)" };
        var groupDelay = SecondsOption.Create("--group-delay", "Pause after each group of the shutdown order before the next starts (0 to 86400, default 0)", ShutdownTimeouts.MaxSeconds, allowZero: true);
        var ignoreOrder = new Option<bool>("--ignore-order") { Description = "Stop every VM at once, whatever its shutdown order (vm.json ShutdownOrder)" };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();

        var command = new Command("down", "Shut VMs down: the guest is asked (guest agent or ACPI power button), then SIGTERM, then SIGKILL, each bounded")
        {
            names, all, cooperative, term, kill, method, force, save, escalation, saveTimeout, reason, message, throttle, dryRun, deadline, hookError, drain, saveState, groupDelay, ignoreOrder, json, home,
        };

        command.Validators.Add(result =>
        {
            if (result.GetValue(save) && result.GetValue(force))
            {
                result.AddError("--save and --force cannot be combined: a save keeps the VM's state, --force discards it");
            }
        });

        command.SetAction(async (parse, _) =>
        {
            var targets = parse.GetValue(names) ?? [];
            var everything = parse.GetValue(all);
            if (targets.Length == 0 && !everything)
            {
                await Console.Error.WriteLineAsync("castra down: name one or more VMs, or use --all").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            if (targets.FirstOrDefault(t => t.StartsWith('-')) is { } unknown)
            {
                await Console.Error.WriteLineAsync($"castra down: unknown option '{unknown}' (see castra down --help)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            if (targets.Length > 0 && everything)
            {
                await Console.Error.WriteLineAsync("castra down: give VM names or --all, not both").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var options = new ShutdownOptions
            {
                Wording = CliWording.Instance,
                CooperativeTimeout = SecondsOption.ToSpan(parse.GetValue(cooperative)),
                TermTimeout = SecondsOption.ToSpan(parse.GetValue(term)),
                KillTimeout = SecondsOption.ToSpan(parse.GetValue(kill)),
                Method = parse.GetValue(method),
                Force = parse.GetValue(force),
                Save = parse.GetValue(save),
                Escalation = parse.GetValue(escalation),
                SaveTimeout = SecondsOption.ToSpan(parse.GetValue(saveTimeout)),
                Reason = parse.GetValue(reason),
                Message = parse.GetValue(message),
                ThrottleLimit = parse.GetValue(throttle),
                Deadline = SecondsOption.ToSpan(parse.GetValue(deadline)),
                HookErrorAction = parse.GetValue(hookError),
                DrainTimeout = SecondsOption.ToSpan(parse.GetValue(drain)) ?? ShutdownOptions.DefaultDrainTimeout,
                SaveState = parse.GetValue(saveState),
                GroupDelay = SecondsOption.ToSpan(parse.GetValue(groupDelay)) ?? TimeSpan.Zero,
                IgnoreOrder = parse.GetValue(ignoreOrder),
            };

            StateRoot root;
            try
            {
                options.Validate();
                root = CommonOptions.ExistingRoot(parse.GetValue(home));
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync(ex.ErrorId == ErrorIds.StateRootNotFound ? $"castra down: {ex.Message} [{ex.ErrorId}]" : $"castra down: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            if (parse.GetValue(dryRun))
            {
                IReadOnlyList<string> planned;
                try
                {
                    planned = everything ? root.ListVmNames() : targets;
                }
                catch (CastraException ex)
                {
                    await Console.Error.WriteLineAsync($"castra: error: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                    return ExitCodes.NotStopped;
                }

                return await PlanAsync(root, planned, options, parse.GetValue(json)).ConfigureAwait(false);
            }

            return await RunAsync(
                (engine, feed, token) => everything ? engine.StopAllAsync(options, feed, token) : engine.StopAsync(targets, options, feed, token),
                root, parse.GetValue(json)).ConfigureAwait(false);
        });

        return command;
    }

    private static async Task<int> PlanAsync(StateRoot root, IReadOnlyList<string> vms, ShutdownOptions options, bool json)
    {
        using var terminal = new Terminal();
        var plans = await new ShutdownPlanner(root).PlanAsync(vms, options, options.Deadline, terminal.Token).ConfigureAwait(false);
        var ordered = plans.Select(p => p.Group).Distinct().Count() > 1;
        foreach (var plan in plans)
        {
            if (json)
            {
                Console.Out.WriteLine(CastraJson.Serialize(plan));
                continue;
            }

            // With several groups, each line says where in the order the VM stops and how long before its group may start.
            var place = ordered ? $"group {plan.Group} (order {plan.ShutdownOrder}{(plan.EarlierGroupsMs > 0 ? $", starts within {EventText.Seconds(plan.EarlierGroupsMs)}" : "")}); " : "";
            Console.Out.WriteLine($"{plan.VmName}: {plan.State}; {place}{plan.Steps}; worst case {EventText.Seconds(plan.WorstCaseMs)}{(plan.ExceedsDeadline ? " (EXCEEDS the deadline)" : "")} — {plan.Detail}");
            if (plan.HasHooks)
            {
                // The session drain and the hooks are part of the worst case: show what it counts.
                Console.Out.WriteLine($"    hooks: {plan.Hooks}");
            }
        }

        if (ordered && !json)
        {
            Console.Out.WriteLine($"order: {ShutdownPlanner.DescribeOrder(plans)}; worst case of the whole order {EventText.Seconds(plans.Max(p => p.OrderWorstCaseMs))}");
        }

        // The same check as the run's (ShutdownEngine.PreviewAsync): per VM, per throttle queue, over the whole order.
        if (options.Deadline is { } deadline && ShutdownPlanner.DeadlineProblem(plans, deadline, options.ThrottleLimit) is { } problem)
        {
            await Console.Error.WriteLineAsync($"castra down: {problem.Message} [{problem.ErrorId}]").ConfigureAwait(false);
            return ExitCodes.DeadlineExceeded;
        }

        return plans.Any(p => p.IsNotFound) ? ExitCodes.UnknownVm : ExitCodes.Success;
    }

    private static async Task<int> RunAsync(Func<ShutdownEngine, ShutdownFeed, CancellationToken, Task<IReadOnlyList<VmShutdownResult>>> stop, StateRoot root, bool json)
    {
        using var terminal = new Terminal();
        var feed = new ShutdownFeed();
        var work = stop(new ShutdownEngine(root), feed, terminal.Token);
        _ = work.ContinueWith(t => feed.Complete(), TaskScheduler.Default);

        // The only writer to the console: events from every VM's task arrive through the feed.
        await foreach (var message in feed.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (message.Event is { } evt)
            {
                Console.Out.WriteLine(json ? EventJson.Serialize(evt) : Human(evt));
            }
            else if (message.Diagnostic is { Severity: not DiagnosticSeverity.Trace } d)
            {
                var level = d.Severity == DiagnosticSeverity.Error ? "error" : "warning";
                Console.Error.WriteLine($"castra: {level}: {d.Message} [{d.ErrorId}]");
            }
            else if (message.Diagnostic is { ErrorId: ErrorIds.WaitingForGroup } waiting)
            {
                // A VM of a later shutdown group has no event until its group starts: say it waits, rather than look
                // stuck (in a terminal and in the journal of the host-shutdown unit alike).
                Console.Error.WriteLine($"castra: {waiting.Message}");
            }
        }

        IReadOnlyList<VmShutdownResult> results;
        try
        {
            results = await work.ConfigureAwait(false);
        }
        catch (CastraException ex) when (ex.ErrorId == ErrorIds.DeadlineExceeded)
        {
            // Refused before anything started.
            await Console.Error.WriteLineAsync($"castra down: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
            return ExitCodes.DeadlineExceeded;
        }
        catch (CastraException ex)
        {
            // The call as a whole could not start (the VMs could not be listed): nothing was stopped.
            await Console.Error.WriteLineAsync($"castra: error: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
            return ExitCodes.NotStopped;
        }

        if (terminal.Token.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }

        if (results.Any(r => r.Outcome is not null && !r.Stopped) || results.Any(r => r.Outcome is null && r.ErrorId is not (ErrorIds.VmNotFound or ErrorIds.InvalidVmName)))
        {
            return ExitCodes.NotStopped;
        }

        return results.Any(r => r.ErrorId is ErrorIds.VmNotFound or ErrorIds.InvalidVmName) ? ExitCodes.UnknownVm : ExitCodes.Success;
    }

    internal static string Human(ShutdownEvent evt)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{evt.Timestamp:HH:mm:ss.fff} {evt.VmName} [{evt.Sequence}] {evt.Type}: {EventText.Describe(evt)}");
        if (EventText.HintOf(evt) is { } hint)
        {
            line += $"{Environment.NewLine}    hint: {hint}";
        }

        if (evt is HookCompletedEvent { LogPath: { } log, Status: not "Succeeded" })
        {
            line += $"{Environment.NewLine}    log: {log}";
        }

        if (evt is ShutdownCompleteEvent { SaveStatePath: { } saved })
        {
            line += $"{Environment.NewLine}    state saved: {saved}";
        }

        return line;
    }
}

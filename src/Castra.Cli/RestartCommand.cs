using System.CommandLine;
using Castra.Errors;
using Castra.Events;
using Castra.Launch;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra restart</c>: each VM's whole graceful shutdown, then a start from its recorded definition, in one event stream.</summary>
internal static class RestartCommand
{
    public static Command Create()
    {
        var names = CommonOptions.Names("VMs to restart");
        var cooperative = SecondsOption.Create("--cooperative-timeout", "How long the guest gets to power off by itself (default: vm.json, else 60)", ShutdownTimeouts.MaxSeconds);
        var term = SecondsOption.Create("--term-timeout", "How long to wait after SIGTERM (default: vm.json, else 10)", ShutdownTimeouts.MaxSeconds);
        var kill = SecondsOption.Create("--kill-timeout", "How long to wait after SIGKILL (default: vm.json, else 5)", ShutdownTimeouts.MaxSeconds);
        var method = new Option<CooperativeMethod>("--method") { Description = "Auto (guest agent if it answers, else ACPI), Acpi or Agent", DefaultValueFactory = _ => CooperativeMethod.Auto };
        var reason = new Option<ShutdownReason>("--reason") { Description = "Why, recorded in ShutdownRequested (default UserRequested)", DefaultValueFactory = _ => ShutdownReason.UserRequested, HelpName = "REASON" };
        var message = new Option<string?>("--message") { Description = "Free text recorded in ShutdownRequested" };
        var throttle = new Option<int>("--throttle") { Description = "At most N VMs stopping at once (0: no limit)", HelpName = "N" };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();

        var command = new Command("restart", "Restart VMs: the graceful shutdown of castra down, then a start from the launch each vm.json records")
        {
            names, cooperative, term, kill, method, reason, message, throttle, json, home,
        };

        command.SetAction(async (parse, cancellation) =>
        {
            var targets = parse.GetValue(names) ?? [];
            if (targets.Length == 0)
            {
                await Console.Error.WriteLineAsync("castra restart: name one or more VMs").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            if (targets.FirstOrDefault(t => t.StartsWith('-')) is { } unknown)
            {
                await Console.Error.WriteLineAsync($"castra restart: unknown option '{unknown}' (see castra restart --help)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var options = new ShutdownOptions
            {
                Wording = CliWording.Instance,
                CooperativeTimeout = SecondsOption.ToSpan(parse.GetValue(cooperative)),
                TermTimeout = SecondsOption.ToSpan(parse.GetValue(term)),
                KillTimeout = SecondsOption.ToSpan(parse.GetValue(kill)),
                Method = parse.GetValue(method),
                Reason = parse.GetValue(reason),
                Message = parse.GetValue(message),
                ThrottleLimit = parse.GetValue(throttle),
            };

            StateRoot root;
            try
            {
                options.Validate();
                root = CommonOptions.ExistingRoot(parse.GetValue(home));
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra restart: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var asJson = parse.GetValue(json);
            using var terminal = new Terminal();
            var feed = new ShutdownFeed();
            var work = new VmRestarter(root, CliWording.Instance).RestartAsync(targets, options, feed, terminal.Token);
            _ = work.ContinueWith(t => feed.Complete(), TaskScheduler.Default);
            // Not the parse token: Terminal turns Ctrl+C into cancelling the work, whose feed then completes.
            await foreach (var item in feed.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (item.Event is { } evt)
                {
                    Console.Out.WriteLine(asJson ? EventJson.Serialize(evt) : DownCommand.Human(evt));
                }
                else if (item.Diagnostic is { Severity: not DiagnosticSeverity.Trace } d)
                {
                    Console.Error.WriteLine($"castra: {(d.Severity == DiagnosticSeverity.Error ? "error" : "warning")}: {d.Message} [{d.ErrorId}]");
                }
            }

            IReadOnlyList<VmRestartResult> results;
            try
            {
                results = await work.ConfigureAwait(false);
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra: error: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ExitCodes.NotStopped;
            }

            if (terminal.Token.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }

            // 0: every VM started again; 3: some named VM does not exist (the others restarted); 1: otherwise.
            if (results.Any(r => !r.Started && r.ErrorId is not (ErrorIds.VmNotFound or ErrorIds.InvalidVmName)))
            {
                return ExitCodes.NotReady;
            }

            return results.Any(r => !r.Started) ? ExitCodes.UnknownVm : ExitCodes.Success;
        });

        return command;
    }
}

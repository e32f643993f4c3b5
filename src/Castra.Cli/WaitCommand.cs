using System.CommandLine;
using Castra.Errors;
using Castra.Launch;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra wait</c>: until VMs are ready to cooperate (QMP running, guest agent answering, optional serial marker) or a timeout.</summary>
internal static class WaitCommand
{
    public static Command Create()
    {
        var names = CommonOptions.Names("VMs to wait for");
        var timeout = SecondsOption.Create("--timeout", $"How long to wait for all of them (default {ReadinessOptions.DefaultTimeout.TotalSeconds:0})", Shutdown.ShutdownTimeouts.MaxSeconds);
        var marker = new Option<string?>("--for-marker") { Description = "Also wait for this text on the VM's serial console (serial.log)", HelpName = "TEXT" };
        marker.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text && (text.Length is 0 or > ReadinessOptions.MaxMarkerLength || text.Contains('\n', StringComparison.Ordinal)))
            {
                r.AddError($"--for-marker must be 1 to {ReadinessOptions.MaxMarkerLength} characters on one line");
            }
        });
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();

        var command = new Command("wait", "Wait until VMs are ready to cooperate with a shutdown: QMP running, the guest agent answering where there is one, optionally a serial-console marker")
        {
            names, timeout, marker, json, home,
        };

        command.SetAction(async (parse, _) =>
        {
            var targets = parse.GetValue(names) ?? [];
            if (targets.Length == 0)
            {
                await Console.Error.WriteLineAsync("castra wait: name one or more VMs").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            if (targets.FirstOrDefault(t => t.StartsWith('-')) is { } unknown)
            {
                await Console.Error.WriteLineAsync($"castra wait: unknown option '{unknown}' (see castra wait --help)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var options = new ReadinessOptions
            {
                Timeout = SecondsOption.ToSpan(parse.GetValue(timeout)) ?? ReadinessOptions.DefaultTimeout,
                Marker = parse.GetValue(marker),
            };

            StateRoot root;
            try
            {
                options.Validate();
                root = CommonOptions.ExistingRoot(parse.GetValue(home));
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra wait: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            using var terminal = new Terminal();
            IReadOnlyList<ReadinessResult> results;
            try
            {
                results = await new ReadinessWaiter(root).WaitAsync(targets, options, terminal.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Interrupted;
            }

            foreach (var result in results)
            {
                if (result.Readiness is { } r)
                {
                    Console.Out.WriteLine(parse.GetValue(json)
                        ? CastraJson.Serialize(r)
                        : r.Ready ? $"{r.Name}: ready after {r.Ms} ms ({r.WaitedFor})" : $"{r.Name}: NOT ready after {r.Ms} ms ({r.WaitedFor}): {r.Detail}");
                }

                if (result.Error is { } error && error.ErrorId != ErrorIds.VmNotReady)
                {
                    await Console.Error.WriteLineAsync($"castra wait: {error.Message} [{error.ErrorId}]").ConfigureAwait(false);
                }
            }

            // 0: all ready; 1: some not ready in time; 3: some named VM does not exist (every other one was ready).
            if (results.Any(r => r.Error is { ErrorId: not (ErrorIds.VmNotFound or ErrorIds.InvalidVmName) }))
            {
                return ExitCodes.NotReady;
            }

            return results.Any(r => r.Error is not null) ? ExitCodes.UnknownVm : ExitCodes.Success;
        });

        return command;
    }
}

using System.CommandLine;
using System.Globalization;
using Castra.Errors;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra status</c>: the current or last shutdown of each VM, read from shutdown.json (no lock taken).</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var names = CommonOptions.Names("VMs to show (default: all)");
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var command = new Command("status", "Show the current or last shutdown of VMs, from any session") { names, json, home };
        command.SetAction(parse =>
        {
            StateRoot root;
            try
            {
                root = CommonOptions.ExistingRoot(parse.GetValue(home));
            }
            catch (CastraException ex)
            {
                Console.Error.WriteLine($"castra status: {ex.Message} [{ex.ErrorId}]");
                return ExitCodes.Usage;
            }

            var requested = parse.GetValue(names) ?? [];
            if (requested.FirstOrDefault(t => t.StartsWith('-')) is { } unknown)
            {
                Console.Error.WriteLine($"castra status: unknown option '{unknown}' (see castra status --help)");
                return ExitCodes.Usage;
            }

            IReadOnlyList<string> vms;
            try
            {
                vms = requested.Length > 0 ? requested : root.ListVmNames();
            }
            catch (CastraException ex)
            {
                Console.Error.WriteLine($"castra: error: {ex.Message} [{ex.ErrorId}]");
                return ExitCodes.NotStopped;
            }

            var exit = ExitCodes.Success;
            foreach (var name in vms)
            {
                try
                {
                    var vm = root.Vm(name);
                    if (!vm.Exists)
                    {
                        throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, $"No VM named '{name}' under {root.Path}.");
                    }

                    var status = ShutdownStatusReader.Read(vm);
                    if (parse.GetValue(json))
                    {
                        if (status is not null)
                        {
                            Console.Out.WriteLine(CastraJson.Serialize(status));
                        }
                    }
                    else
                    {
                        Console.Out.WriteLine(status is null ? $"{name}: never shut down by Castra" : Human(status));
                    }
                }
                catch (CastraException ex)
                {
                    Console.Error.WriteLine($"castra: error: {ex.Message} [{ex.ErrorId}]");
                    exit = ExitCodes.UnknownVm;
                }
            }

            return exit;
        });
        return command;
    }

    private static string Human(ShutdownStatus s) => s.State switch
    {
        ShutdownStatusReader.InProgress => string.Create(CultureInfo.InvariantCulture,
            $"{s.VmName}: shutting down, phase {s.Phase}{HookProgress(s)}, started {s.StartedAt:u}, {s.RemainingMs / 1000.0:0.#}s left at most (owner PID {s.OwnerPid} on {s.OwnerHost})"),
        ShutdownStatusReader.Interrupted => string.Create(CultureInfo.InvariantCulture,
            $"{s.VmName}: interrupted in phase {s.Phase} (owner PID {s.OwnerPid} is gone); the next shutdown takes over"),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"{s.VmName}: {s.Outcome} in {s.TotalMs} ms at {s.CompletedAt:u} ({s.Reason}){HookProgress(s)}{(s.Detail is null ? "" : ": " + s.Detail)}{(s.SavedState ? "; its state is saved: the next start resumes it" : "")}"),
    };

    /// <summary>E.g. ", hooks 1/3 done, running export,flush" — only when the run has hooks or a drain.</summary>
    private static string HookProgress(ShutdownStatus s) =>
        (s.HooksTotal > 0 ? $", hooks {s.HooksCompleted}/{s.HooksTotal} done" : "") +
        (s.RunningHooks is null ? "" : $", running {s.RunningHooks}") +
        (s.SessionsInterrupted > 0 ? $", {s.SessionsInterrupted} session(s) interrupted" : "");
}

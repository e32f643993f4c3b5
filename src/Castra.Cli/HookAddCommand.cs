using System.CommandLine;
using Castra.Errors;
using Castra.Hooks;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra hook add NAME [options] -- PROGRAM [ARGS...]</c>: register a cleanup hook under the state root.</summary>
internal static class HookAddCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The hook's name (letters, digits, '-', '_', '.'; not starting with 'castra.')" };
        var program = new Argument<string[]>("PROGRAM") { Description = "The program and its arguments, after --", Arity = ArgumentArity.ZeroOrMore };
        var vm = new Option<string>("--vm") { Description = "The VM it runs for, or '*' (quoted) for every VM (default *)", DefaultValueFactory = _ => HookScope.AllVms, HelpName = "NAME" };
        var stage = new Option<HookStage>("--stage") { Description = "PreStop (default: before the guest is asked to power off) or PostStop (after QEMU is gone)", DefaultValueFactory = _ => HookStage.PreStop, HelpName = "STAGE" };
        var priority = new Option<int>("--priority") { Description = $"{HookLimits.MaxReservedPriority + 1}-{HookLimits.MaxPriority}, lower runs first; equal priorities run at the same time (default {HookLimits.DefaultPriority})", DefaultValueFactory = _ => HookLimits.DefaultPriority, HelpName = "N" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds before its process group is terminated (default 5)", DefaultValueFactory = _ => HookLimits.DefaultTimeoutMs / 1000.0, HelpName = "SECONDS" };
        var force = new Option<bool>("--force") { Description = "Replace a hook of the same name and --vm" };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();

        var command = new Command("add", "Register a cleanup hook: every shutdown of the VM runs PROGRAM at its stage")
        {
            name, program, vm, stage, priority, timeout, force, json, home,
        };

        command.SetAction(parse =>
        {
            var argv = parse.GetValue(program) ?? [];
            if (argv.Length == 0)
            {
                Console.Error.WriteLine("castra hook add: give the program to run after --, e.g. castra hook add NAME -- /usr/local/bin/notify --quiet");
                return ExitCodes.Usage;
            }

            var seconds = parse.GetValue(timeout);
            if (!double.IsFinite(seconds) || Math.Abs(seconds) > HookLimits.MaxTimeoutSeconds * 2)
            {
                // TimeSpan cannot hold these; anything TimeSpan can hold is checked by the store, like every face.
                Console.Error.WriteLine($"castra hook add: --timeout must be at least 0.001 (1 ms) and at most {HookLimits.MaxTimeoutSeconds} seconds [{ErrorIds.InvalidTimeout}]");
                return ExitCodes.Usage;
            }

            try
            {
                var store = new HookStore(StateRoot.Resolve(parse.GetValue(home)), CliWording.Instance);
                var hook = store.Register(
                    new HookRegistration
                    {
                        Name = parse.GetValue(name) ?? "",
                        VmName = parse.GetValue(vm) ?? HookScope.AllVms,
                        Stage = parse.GetValue(stage),
                        Priority = parse.GetValue(priority),
                        Timeout = TimeSpan.FromSeconds(seconds),
                        Executable = argv[0],
                        Arguments = argv[1..],
                    },
                    replace: parse.GetValue(force));
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(CastraJson.Serialize(hook));
                }
                else
                {
                    Console.Out.WriteLine(HookCommand.Header);
                    Console.Out.WriteLine(HookCommand.Row(hook));
                }

                return ExitCodes.Success;
            }
            catch (CastraException ex)
            {
                Console.Error.WriteLine($"castra hook add: {ex.Message} [{ex.ErrorId}]");
                return ExitCodeOf(ex);
            }
        });

        return command;
    }

    /// <summary>Invalid input is a usage error (nothing registered); an existing hook or an unreadable hooks.json is 1.</summary>
    private static int ExitCodeOf(CastraException ex) => ex.ErrorId switch
    {
        ErrorIds.HookExists => ExitCodes.Refused,
        ErrorIds.InvalidHook when ex.Category == CastraErrorCategory.InvalidData => ExitCodes.Refused,
        _ => ExitCodes.Usage,
    };
}

using System.CommandLine;
using Castra.Errors;
using Castra.Hooks;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra hook list</c>: the registered hooks, in the order a shutdown runs them.</summary>
internal static class HookListCommand
{
    public static Command Create()
    {
        var vm = new Option<string?>("--vm") { Description = "Only hooks registered for this VM ('*': only the ones for every VM)", HelpName = "NAME" };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var command = new Command("list", "List the registered cleanup hooks: PreStop before PostStop, then by priority and name") { vm, json, home };
        command.SetAction(parse =>
        {
            IReadOnlyList<CleanupHook> hooks;
            try
            {
                hooks = new HookStore(CommonOptions.ExistingRoot(parse.GetValue(home)), CliWording.Instance).List();
            }
            catch (CastraException ex)
            {
                Console.Error.WriteLine($"castra hook list: {ex.Message} [{ex.ErrorId}]");
                return ex.ErrorId is ErrorIds.InvalidStateRoot or ErrorIds.StateRootNotFound ? ExitCodes.Usage : ExitCodes.Refused;
            }

            if (parse.GetValue(vm) is { } scope)
            {
                hooks = hooks.Where(h => string.Equals(h.VmName, scope, StringComparison.Ordinal)).ToList();
            }

            if (parse.GetValue(json))
            {
                foreach (var hook in hooks)
                {
                    Console.Out.WriteLine(CastraJson.Serialize(hook));
                }

                return ExitCodes.Success;
            }

            Console.Out.WriteLine(HookCommand.Header);
            foreach (var hook in hooks)
            {
                Console.Out.WriteLine(HookCommand.Row(hook));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}

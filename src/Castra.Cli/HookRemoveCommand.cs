using System.CommandLine;
using Castra.Errors;
using Castra.Hooks;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra hook remove NAME [--vm NAME]</c>: unregister a cleanup hook.</summary>
internal static class HookRemoveCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The hook to remove" };
        var vm = new Option<string?>("--vm") { Description = "The VM it was registered for, or '*'; needed only when the name exists in several scopes", HelpName = "NAME" };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var command = new Command("remove", "Unregister a cleanup hook; shutdowns no longer run it") { name, vm, json, home };
        command.SetAction(parse =>
        {
            try
            {
                var store = new HookStore(StateRoot.Resolve(parse.GetValue(home)), CliWording.Instance);
                var removed = store.Unregister(parse.GetValue(name) ?? "", parse.GetValue(vm));
                Console.Out.WriteLine(parse.GetValue(json)
                    ? CastraJson.Serialize(removed)
                    : $"removed {removed.Name} ({(removed.VmName == HookScope.AllVms ? "every VM" : "VM " + removed.VmName)}, {removed.Stage})");
                return ExitCodes.Success;
            }
            catch (CastraException ex)
            {
                Console.Error.WriteLine($"castra hook remove: {ex.Message} [{ex.ErrorId}]");
                return ex.ErrorId switch
                {
                    ErrorIds.HookNotFound => ExitCodes.NotFound,
                    ErrorIds.HookAmbiguous or ErrorIds.InvalidStateRoot => ExitCodes.Usage,
                    _ => ExitCodes.Refused,
                };
            }
        });
        return command;
    }
}

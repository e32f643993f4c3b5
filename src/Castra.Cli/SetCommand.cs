using System.CommandLine;
using Castra.Errors;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra set</c>: change a VM's recorded settings (its shutdown order) without restarting it.</summary>
internal static class SetCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The VM whose vm.json to change" };
        var order = ShutdownOrderOption.Create("The VM's new shutdown order (0 to 1000): castra down of several VMs stops lower orders first");
        order.Required = true;
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();

        var command = new Command("set", "Change a VM's settings in vm.json (its shutdown order) without restarting it; the next castra down uses them")
        {
            name, order, json, home,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var root = CommonOptions.ExistingRoot(parse.GetValue(home));
                var vm = parse.GetValue(name)!;
                var previous = VmSettings.SetShutdownOrder(root, vm, parse.GetValue(order)!.Value);
                var info = await VmInventory.DescribeAsync(root.Vm(vm), cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine(parse.GetValue(json)
                    ? CastraJson.Serialize(info)
                    : $"{vm}: shutdown order {info.ShutdownOrder} (was {previous?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not set: 0"})");
                return ExitCodes.Success;
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra set: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ex.ErrorId switch
                {
                    ErrorIds.InvalidVmName or ErrorIds.InvalidShutdownOrder or ErrorIds.StateRootNotFound or ErrorIds.InvalidStateRoot => ExitCodes.Usage,
                    ErrorIds.VmNotFound => ExitCodes.UnknownVm,
                    _ => ExitCodes.Refused,
                };
            }
        });

        return command;
    }
}

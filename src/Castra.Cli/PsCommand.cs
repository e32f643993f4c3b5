using System.CommandLine;
using System.Globalization;
using Castra.Errors;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra ps</c>: the VMs under the state root and their state.</summary>
internal static class PsCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var command = new Command("ps", "List VMs under the state root: Running, Stopped, ShuttingDown or Stale") { json, home };
        command.SetAction(async (parse, cancellationToken) =>
        {
            StateRoot root;
            try
            {
                root = CommonOptions.ExistingRoot(parse.GetValue(home));
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra ps: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            IReadOnlyList<VmInfo> vms;
            try
            {
                vms = await VmInventory.ListAsync(root, cancellationToken).ConfigureAwait(false);
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra: error: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ExitCodes.NotStopped;
            }

            if (parse.GetValue(json))
            {
                foreach (var vm in vms)
                {
                    Console.Out.WriteLine(CastraJson.Serialize(vm));
                }

                return ExitCodes.Success;
            }

            Console.Out.WriteLine($"{"NAME",-20} {"STATE",-13} {"PID",7} {"QMP",-4} {"AGENT",-5} {"UPTIME",10}  {"SAVED",-5}  LAST");
            foreach (var vm in vms)
            {
                var uptime = vm.UptimeMs is { } ms ? TimeSpan.FromMilliseconds(ms).ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture) : "-";
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{vm.Name,-20} {vm.State,-13} {(vm.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-"),7} {(vm.Qmp ? "yes" : "no"),-4} {(vm.Agent ? "yes" : "no"),-5} {uptime,10}  {(vm.SavedState ? "yes" : "no"),-5}  {vm.LastOutcome ?? "-"}"));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}

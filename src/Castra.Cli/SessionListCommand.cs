using System.CommandLine;
using Castra.Errors;
using Castra.Serialization;
using Castra.Sessions;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra session list [NAME...]</c>: the sessions of some or every VM, oldest first.</summary>
internal static class SessionListCommand
{
    public static Command Create()
    {
        var names = CommonOptions.Names("VMs whose sessions to list (default: every VM)");
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();
        var command = new Command("list", "List guest sessions (Running, Draining or Stopped), oldest first per VM") { names, json, home };
        command.SetAction(parse =>
        {
            StateRoot root;
            try
            {
                root = CommonOptions.ExistingRoot(parse.GetValue(home));
            }
            catch (CastraException ex)
            {
                Console.Error.WriteLine($"castra session list: {ex.Message} [{ex.ErrorId}]");
                return ExitCodes.Usage;
            }

            var requested = parse.GetValue(names) ?? [];
            if (requested.FirstOrDefault(t => t.StartsWith('-')) is { } unknown)
            {
                Console.Error.WriteLine($"castra session list: unknown option '{unknown}' (see castra session list --help)");
                return ExitCodes.Usage;
            }

            var manager = new SessionManager(root, CliWording.Instance);
            var sessions = new List<VmSession>();
            var exit = ExitCodes.Success;
            var selection = requested.Length > 0 ? requested.Distinct(StringComparer.Ordinal).Select(n => (string?)n) : [(string?)null];
            foreach (var name in selection)
            {
                try
                {
                    if (name is not null && !root.Vm(name).Exists)
                    {
                        throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, $"No VM named '{name}' under {root.Path}.");
                    }

                    sessions.AddRange(manager.List(name));
                }
                catch (CastraException ex)
                {
                    Console.Error.WriteLine($"castra: error: {ex.Message} [{ex.ErrorId}]");
                    exit = ExitCodes.UnknownVm;
                }
            }

            if (parse.GetValue(json))
            {
                foreach (var session in sessions)
                {
                    Console.Out.WriteLine(CastraJson.Serialize(session));
                }
            }
            else
            {
                Console.Out.WriteLine(SessionCommand.Header);
                foreach (var session in sessions)
                {
                    Console.Out.WriteLine(SessionCommand.Row(session));
                }
            }

            return exit;
        });
        return command;
    }
}

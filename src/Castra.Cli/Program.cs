using System.CommandLine;
using Castra.Cli;

var root = new RootCommand("castra: shut QEMU VMs down gracefully, observably and within bounds")
{
    UpCommand.Create(),
    DownCommand.Create(),
    RestartCommand.Create(),
    WaitCommand.Create(),
    SetCommand.Create(),
    StatusCommand.Create(),
    PsCommand.Create(),
    HookCommand.Create(),
    SessionCommand.Create(),
    HostShutdownCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"castra: {error.Message}");
    }

    Console.Error.WriteLine("Run 'castra --help' for usage.");
    return ExitCodes.Usage;
}

// Ctrl+C and SIGTERM are handled by the commands themselves (see Terminal): they cancel, not kill.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);

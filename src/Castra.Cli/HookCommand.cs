using System.CommandLine;

namespace Castra.Cli;

/// <summary><c>castra hook</c>: register, list and remove cleanup hooks (add, list, remove).</summary>
internal static class HookCommand
{
    public static Command Create() => new("hook", "Cleanup hooks: programs every shutdown of a VM runs before (PreStop) or after (PostStop) it stops")
    {
        HookAddCommand.Create(),
        HookListCommand.Create(),
        HookRemoveCommand.Create(),
    };

    /// <summary>The columns of <c>castra hook list</c> and <c>castra hook add</c>.</summary>
    public static string Header => $"{"NAME",-20} {"VM",-12} {"STAGE",-8} {"PRIORITY",8} {"TIMEOUT",8}  COMMAND";

    public static string Row(Castra.Hooks.CleanupHook hook) =>
        $"{hook.Name,-20} {hook.VmName,-12} {hook.Stage,-8} {hook.Priority,8} {Castra.Events.EventText.Seconds(hook.TimeoutMs),8}  {Castra.Processes.CommandLineText.Format(hook.Executable, hook.Arguments)}";
}

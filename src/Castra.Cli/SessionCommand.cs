using System.CommandLine;
using System.Globalization;
using Castra.Sessions;

namespace Castra.Cli;

/// <summary><c>castra session</c>: guest sessions, host processes doing work tied to a running VM (start, list).</summary>
internal static class SessionCommand
{
    public static Command Create() => new("session", "Guest sessions: work tied to a running VM that a shutdown interrupts cleanly first (SIGINT, drain, SIGTERM)")
    {
        SessionStartCommand.Create(),
        SessionListCommand.Create(),
    };

    /// <summary>The columns of <c>castra session list</c> and <c>castra session start --detach</c>.</summary>
    public static string Header => $"{"RUNID",-25} {"VM",-12} {"STATUS",-8} {"PID",7} {"EXIT",4} {"INTERRUPTED",-11} {"STARTED",-20}  COMMAND";

    public static string Row(VmSession s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.RunId,-25} {s.VmName,-12} {s.Status,-8} {s.Pid,7} {(s.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-"),4} {s.InterruptedBy ?? "-",-11} {s.StartedAt,-20:yyyy-MM-dd HH:mm:ssZ}  {s.Command}");
}

using Castra.Errors;
using Castra.Launch;

namespace Castra.HostShutdown;

/// <summary>
/// The systemctl calls that make a written unit take effect (or stop it taking effect), made only when systemd is
/// the running init: on any other host (a container, this build machine) the caller prints them instead.
/// </summary>
public static class Systemctl
{
    /// <summary>How long one systemctl call may take (daemon-reload on a busy host takes seconds, never minutes).</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>sd_booted(3): systemd is PID 1 exactly when /run/systemd/system/ is a directory.</summary>
    public static bool IsSystemdRunning() => Directory.Exists("/run/systemd/system");

    /// <summary>
    /// After install: reload, then enable and start the unit. Started, because only an active unit is stopped at
    /// shutdown (its start is a no-op); enabled, so it is active again after the next boot.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> InstallCommands(string unitName) =>
        [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", unitName]];

    /// <summary>
    /// Remove, around the file: reload after the unit was retired (its ExecStop gone: stopping Castra's real unit IS
    /// the shutdown of every VM), disable and stop the retired unit, then reload once the file is deleted.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> RetireCommands(string unitName) =>
        [["systemctl", "daemon-reload"], ["systemctl", "disable", "--now", unitName]];

    /// <summary>After the file is deleted.</summary>
    public static IReadOnlyList<string> ReloadCommand { get; } = ["systemctl", "daemon-reload"];

    /// <summary>Runs one command (its first element is "systemctl"), bounded.</summary>
    /// <exception cref="CastraException">CastraSystemctlFailed with its output.</exception>
    public static async Task RunAsync(IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var file = ExternalCommand.Which(command[0]) ?? throw Failed(command, "systemctl was not found on PATH");
        ExternalCommand.Result result;
        try
        {
            result = await ExternalCommand.RunAsync(file, command.Skip(1), CallTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or System.ComponentModel.Win32Exception)
        {
            throw Failed(command, ex.Message);
        }

        if (result.ExitCode != 0)
        {
            throw Failed(command, $"exit {result.ExitCode}: {Bounded(result.Stderr.Trim())}");
        }
    }

    private static CastraException Failed(IReadOnlyList<string> command, string why) =>
        new(ErrorIds.SystemctlFailed, CastraErrorCategory.InvalidOperation, $"'{string.Join(' ', command)}' failed: {why}") { Target = string.Join(' ', command) };

    private static string Bounded(string text) => text.Length <= 2000 ? text : text[..2000] + "…";
}

namespace Castra.HostShutdown;

/// <summary>
/// How install and remove reach systemd: whether it is the running init and how a systemctl command is run. The real
/// one for the faces; a recording one lets the tests check the order of the calls and what the unit file holds at
/// each of them on a machine where systemd is not PID 1.
/// </summary>
internal sealed record SystemctlRunner(bool SystemdRunning, Func<IReadOnlyList<string>, CancellationToken, Task> RunAsync)
{
    /// <summary>This host's systemd (its state looked at now), or none when the caller said not to use it.</summary>
    public static SystemctlRunner ForHost(bool useSystemctl) =>
        useSystemctl ? new(Systemctl.IsSystemdRunning(), Systemctl.RunAsync) : new(false, (_, _) => Task.CompletedTask);
}

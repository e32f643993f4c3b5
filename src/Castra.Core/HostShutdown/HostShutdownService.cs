using Castra.State;

namespace Castra.HostShutdown;

/// <summary>
/// Install, remove and preview of the host-shutdown unit, the one flow behind <c>castra host-shutdown</c> and
/// Register-/Unregister-CastraHostShutdown: the budget from the engine's plans, the unit from the settings, the file
/// written safely, then systemctl when systemd runs the host.
/// </summary>
public static class HostShutdownService
{
    /// <summary>The unit as it would be written now (read-only: the plans' look at every VM).</summary>
    /// <exception cref="Errors.CastraException">Invalid settings; the VMs cannot be listed.</exception>
    public static async Task<HostShutdownUnit> PreviewAsync(HostShutdownSettings settings, Text.Wording wording, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var budget = await HostShutdownBudget.ComputeAsync(new StateRoot(settings.StateRoot), settings.ShutdownOptions(wording), cancellationToken).ConfigureAwait(false);
        return HostShutdownUnit.Build(settings, budget);
    }

    /// <summary>Writes <paramref name="unit"/>, then reloads, enables and starts it when systemd is running.</summary>
    /// <param name="replaceForeign">Replace a file of that name Castra did not write.</param>
    /// <param name="useSystemctl">False: only write the file (an image being prepared, a unit directory systemd does not read).</param>
    /// <exception cref="Errors.CastraException">CastraHostShutdownUnitForeign, CastraUnsafeStateFile, CastraSystemctlFailed.</exception>
    public static Task<HostShutdownChange> InstallAsync(HostShutdownUnit unit, bool replaceForeign, Text.Wording wording, bool useSystemctl = true, CancellationToken cancellationToken = default) =>
        InstallAsync(unit, replaceForeign, wording, SystemctlRunner.ForHost(useSystemctl), cancellationToken);

    internal static async Task<HostShutdownChange> InstallAsync(HostShutdownUnit unit, bool replaceForeign, Text.Wording wording, SystemctlRunner systemctl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var before = UnitFileStore.Install(unit, replaceForeign, wording);
        var commands = Systemctl.InstallCommands(unit.UnitName);
        if (systemctl.SystemdRunning)
        {
            foreach (var command in commands)
            {
                await systemctl.RunAsync(command, cancellationToken).ConfigureAwait(false);
            }
        }

        return new HostShutdownChange
        {
            UnitName = unit.UnitName,
            Path = unit.Path,
            Action = before == UnitFileStore.Existing.None ? "Installed" : "Replaced",
            SystemctlRun = systemctl.SystemdRunning,
            Commands = commands.Select(c => string.Join(' ', c)).ToList(),
            TimeoutStopSeconds = unit.TimeoutStopSeconds,
            WorstCaseMs = unit.WorstCaseMs,
        };
    }

    /// <summary>
    /// Deactivates and deletes the unit, if Castra wrote it, without stopping any VM: with systemd running, the unit is
    /// first replaced by a retired one with no ExecStop and reloaded, then disabled and stopped (which now runs
    /// nothing), then deleted and reloaded. Without systemd (or told not to use it) the file is deleted, and so is its
    /// multi-user.target.wants link when that is a link to it (an offline <c>systemctl enable</c> made it).
    /// </summary>
    /// <param name="useSystemctl">False: only delete the file (and its wants link).</param>
    /// <exception cref="Errors.CastraException">CastraHostShutdownUnitNotFound, CastraHostShutdownUnitForeign, CastraUnsafeStateFile, CastraSystemctlFailed.</exception>
    public static Task<HostShutdownChange> RemoveAsync(string unitDirectory, string unitName, bool useSystemctl = true, CancellationToken cancellationToken = default) =>
        RemoveAsync(unitDirectory, unitName, SystemctlRunner.ForHost(useSystemctl), cancellationToken);

    internal static async Task<HostShutdownChange> RemoveAsync(string unitDirectory, string unitName, SystemctlRunner systemctl, CancellationToken cancellationToken)
    {
        var check = new HostShutdownSettings { CastraPath = "/", StateRoot = "/", UnitDirectory = unitDirectory, UnitName = unitName };
        check.Validate();
        var systemd = systemctl.SystemdRunning;
        List<IReadOnlyList<string>> commands;
        if (systemd && UnitFileStore.Examine(unitDirectory, unitName) == UnitFileStore.Existing.Ours)
        {
            // Refuses a foreign or missing file before anything is changed (Install replaces only Castra's own).
            _ = UnitFileStore.Install(HostShutdownUnit.Retired(unitDirectory, unitName), replaceForeign: false, Text.Wording.Neutral);
            commands = [.. Systemctl.RetireCommands(unitName)];
            foreach (var command in commands)
            {
                await systemctl.RunAsync(command, cancellationToken).ConfigureAwait(false);
            }

            UnitFileStore.Remove(unitDirectory, unitName);
            await systemctl.RunAsync(Systemctl.ReloadCommand, cancellationToken).ConfigureAwait(false);
            commands.Add(Systemctl.ReloadCommand);
        }
        else
        {
            UnitFileStore.Remove(unitDirectory, unitName);
            UnitFileStore.RemoveWantsLink(unitDirectory, unitName);
            commands = [Systemctl.ReloadCommand];
        }

        return new HostShutdownChange
        {
            UnitName = unitName,
            Path = Path.Combine(unitDirectory, unitName),
            Action = "Removed",
            SystemctlRun = systemd,
            Commands = commands.Select(c => string.Join(' ', c)).ToList(),
        };
    }
}

using System.Globalization;
using Castra.Events;
using Castra.Shutdown;

namespace Castra.HostShutdown;

/// <summary>
/// The systemd unit that stops every VM at host shutdown, as libvirt-guests.service does for libvirt: a oneshot that
/// stays active after a no-op start, so systemd runs its ExecStop (<c>castra down --all</c>) when it stops it, i.e. at
/// shutdown, before the units it is ordered after. TimeoutStopSec is the plan's worst case plus a margin.
/// </summary>
public sealed record HostShutdownUnit
{
    /// <summary>The first line of every unit Castra writes: install replaces and remove deletes only a file starting with it.</summary>
    public const string Marker = "# Written by Castra (castra host-shutdown install, Register-CastraHostShutdown). Castra replaces or removes only files that begin with this line.";

    /// <summary>The no-op start: the unit only needs to be active so that its stop runs at shutdown.</summary>
    public const string StartCommand = "/bin/true";

    public string UnitName { get; init; } = "";

    /// <summary>Where the file goes: the unit directory and the unit name.</summary>
    public string Path { get; init; } = "";

    public string StateRoot { get; init; } = "";

    /// <summary>The command ExecStop runs, one argument per element (before systemd quoting).</summary>
    public IReadOnlyList<string> StopCommand { get; init; } = [];

    /// <summary>TimeoutStopSec: <see cref="WorstCaseMs"/> plus <see cref="MarginMs"/>, rounded up to whole seconds.</summary>
    public long TimeoutStopSeconds { get; init; }

    public long WorstCaseMs { get; init; }

    public long MarginMs { get; init; }

    /// <summary>How many VMs the worst case was computed over (at install time).</summary>
    public int VmCount { get; init; }

    /// <summary>The unit file's text.</summary>
    public string Text { get; init; } = "";

    /// <exception cref="Errors.CastraException">CastraInvalidHostShutdownUnit.</exception>
    public static HostShutdownUnit Build(HostShutdownSettings settings, HostShutdownBudget budget)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(budget);
        settings.Validate();
        var margin = (long)Math.Round(settings.Margin.TotalMilliseconds);
        var timeout = (budget.WorstCaseMs + margin + 999) / 1000;
        var stop = StopArguments(settings);
        var seconds = EventText.Seconds(budget.WorstCaseMs);
        var unit = new SystemdUnit()
            .Comment(Marker["# ".Length..])
            .Comment("Do not edit: re-run the install instead (after adding VMs, hooks or longer timeouts, too).")
            .Comment(string.Create(CultureInfo.InvariantCulture,
                $"TimeoutStopSec = the worst case of 'castra down --all' at install time ({seconds}, {budget.Vms.Count} VM(s){(budget.ThrottleLimit > 0 ? $", throttle {budget.ThrottleLimit}" : "")}) + margin {EventText.Seconds(margin)}."))
            .Add("Unit", "Description", SystemdQuoting.Text($"Castra: shut down the QEMU VMs under {settings.StateRoot} at host shutdown"))
            .Add("Unit", "Documentation", "man:systemd.service(5)");

        // At shutdown systemd stops units in the reverse order of After=: this unit (and so every VM) stops before them.
        foreach (var after in HostShutdownSettings.DefaultAfter.Concat(settings.After).Distinct(StringComparer.Ordinal))
        {
            unit.Add("Unit", "After", after);
        }

        foreach (var before in settings.Before.Distinct(StringComparer.Ordinal))
        {
            unit.Add("Unit", "Before", before);
        }

        if (MountPath(settings.StateRoot) is { } mount)
        {
            // The state root's file system stays mounted until the VMs are stopped (and their state written).
            unit.Add("Unit", "RequiresMountsFor", mount);
        }

        unit.Add("Service", "Type", "oneshot")
            .Add("Service", "RemainAfterExit", "yes")
            .Add("Service", "ExecStart", StartCommand)
            .Add("Service", "ExecStop", SystemdQuoting.ExecLine(stop))
            .Add("Service", "TimeoutStopSec", timeout.ToString(CultureInfo.InvariantCulture))
            .Add("Service", "StandardOutput", "journal")
            .Add("Service", "StandardError", "journal")
            .Add("Service", "SyslogIdentifier", settings.UnitName[..^".service".Length])
            .Add("Install", "WantedBy", "multi-user.target");

        return new HostShutdownUnit
        {
            UnitName = settings.UnitName,
            Path = System.IO.Path.Combine(settings.UnitDirectory, settings.UnitName),
            StateRoot = settings.StateRoot,
            StopCommand = stop,
            TimeoutStopSeconds = timeout,
            WorstCaseMs = budget.WorstCaseMs,
            MarginMs = margin,
            VmCount = budget.Vms.Count,
            Text = unit.Render(),
        };
    }

    /// <summary>
    /// The same unit with nothing to run at stop: written over Castra's unit before a remove stops it, so that
    /// deactivating it (which a remove must do, or an active unit would keep its ExecStop until the next boot) does not
    /// stop every VM.
    /// </summary>
    public static HostShutdownUnit Retired(string unitDirectory, string unitName)
    {
        var unit = new SystemdUnit()
            .Comment(Marker["# ".Length..])
            .Comment("Being removed by Castra: this unit no longer stops any VM.")
            .Add("Unit", "Description", "Castra host shutdown (being removed)")
            .Add("Service", "Type", "oneshot")
            .Add("Service", "RemainAfterExit", "yes")
            .Add("Service", "ExecStart", StartCommand);
        return new HostShutdownUnit { UnitName = unitName, Path = System.IO.Path.Combine(unitDirectory, unitName), Text = unit.Render() };
    }

    /// <summary>
    /// <c>castra down --all</c> against the state root, recorded as a system shutdown, with the options the budget
    /// was computed with. No --deadline: today it refuses the whole call up front when a worst case exceeds it, and
    /// at host shutdown a refusal would leave every VM to systemd's SIGTERM.
    /// </summary>
    private static List<string> StopArguments(HostShutdownSettings settings)
    {
        var args = new List<string>
        {
            settings.CastraPath, "down", "--all", "--home", settings.StateRoot,
            "--reason", ContractNames.Of(ShutdownReason.SystemShutdown), "--message", $"host shutdown ({settings.UnitName})",
        };
        AddSeconds(args, "--cooperative-timeout", settings.CooperativeTimeout);
        AddSeconds(args, "--term-timeout", settings.TermTimeout);
        AddSeconds(args, "--kill-timeout", settings.KillTimeout);
        if (settings.ThrottleLimit > 0)
        {
            args.Add("--throttle");
            args.Add(settings.ThrottleLimit.ToString(CultureInfo.InvariantCulture));
        }

        return args;
    }

    private static void AddSeconds(List<string> args, string option, TimeSpan? value)
    {
        if (value is { } v)
        {
            args.Add(option);
            args.Add(v.TotalSeconds.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// RequiresMountsFor= splits on spaces and honours double quotes but, unlike Exec lines, no backslash escapes or
    /// $: only a path of plain characters, spaces and % is written there (quoted, % doubled); any other is left out.
    /// </summary>
    private static string? MountPath(string path) =>
        path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '.' or ',' or ':' or '=' or '+' or '@' or '-' or ' ' or '%')
            ? "\"" + path.Replace("%", "%%", StringComparison.Ordinal) + "\""
            : null;
}

using System.Text.RegularExpressions;
using Castra.Errors;
using Castra.Shutdown;

namespace Castra.HostShutdown;

/// <summary>
/// What the host-shutdown unit is made of: where it goes, which castra it runs against which state root, what it is
/// ordered after and before, and the options of the <c>castra down --all</c> it runs (they change its worst case,
/// so the budget is computed with them too). Shared by <c>castra host-shutdown</c> and the cmdlets.
/// </summary>
public sealed partial record HostShutdownSettings
{
    public const string DefaultUnitDirectory = "/etc/systemd/system";

    public const string DefaultUnitName = "castra-guests.service";

    /// <summary>Added to the worst case: castra's own start, the look at every VM, the journal's pace at shutdown.</summary>
    public static readonly TimeSpan DefaultMargin = TimeSpan.FromSeconds(30);

    /// <summary>At most a day on top of the worst case.</summary>
    public const double MaxMarginSeconds = 86_400;

    /// <summary>
    /// Stopped before these at host shutdown (After= them): the network and file systems a guest's shutdown (and its
    /// hooks) may still need, and the clock, as libvirt-guests does.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultAfter = ["network.target", "network-online.target", "remote-fs.target", "local-fs.target", "time-sync.target"];

    /// <summary>The castra executable ExecStop runs: an absolute path.</summary>
    public required string CastraPath { get; init; }

    /// <summary>The state root whose VMs are stopped (passed as --home): an absolute path.</summary>
    public required string StateRoot { get; init; }

    public string UnitDirectory { get; init; } = DefaultUnitDirectory;

    public string UnitName { get; init; } = DefaultUnitName;

    public TimeSpan Margin { get; init; } = DefaultMargin;

    /// <summary>Units to order this one after (it is stopped before them), besides <see cref="DefaultAfter"/>.</summary>
    public IReadOnlyList<string> After { get; init; } = [];

    /// <summary>Units to order this one before (it is stopped after them).</summary>
    public IReadOnlyList<string> Before { get; init; } = [];

    public TimeSpan? CooperativeTimeout { get; init; }

    public TimeSpan? TermTimeout { get; init; }

    public TimeSpan? KillTimeout { get; init; }

    public int ThrottleLimit { get; init; }

    /// <summary>The shutdown options the unit's command runs with, for the budget (the same values its arguments carry).</summary>
    public ShutdownOptions ShutdownOptions(Text.Wording wording) => new()
    {
        Wording = wording,
        Reason = ShutdownReason.SystemShutdown,
        CooperativeTimeout = CooperativeTimeout,
        TermTimeout = TermTimeout,
        KillTimeout = KillTimeout,
        ThrottleLimit = ThrottleLimit,
    };

    /// <summary>The castra CLI on PATH (for a face that is not castra itself), or null.</summary>
    public static string? FindCastraOnPath() => Launch.ExternalCommand.Which("castra");

    /// <summary>Whether <paramref name="name"/> is a unit name this module accepts for After=/Before=.</summary>
    public static bool IsUnitName(string name) => name.Length <= 255 && UnitNamePattern().IsMatch(name);

    /// <summary>Whether <paramref name="name"/> is a name for the unit itself: a plain (not template) .service.</summary>
    public static bool IsServiceName(string name) => name.Length <= 255 && ServiceNamePattern().IsMatch(name);

    /// <exception cref="CastraException">CastraInvalidHostShutdownUnit, naming what is wrong.</exception>
    public void Validate()
    {
        Require(Path.IsPathFullyQualified(CastraPath), $"the castra path '{CastraPath}' is not absolute: systemd runs an Exec line's program by its absolute path");
        Require(SystemdQuoting.IsExecutablePath(CastraPath), $"the castra path '{CastraPath}' has a character systemd refuses in a program's path (a backslash, a quote or a control character)");
        Require(Path.IsPathFullyQualified(StateRoot), $"the state root '{StateRoot}' is not absolute");
        Require(Path.IsPathFullyQualified(UnitDirectory), $"the unit directory '{UnitDirectory}' is not absolute");
        Require(IsServiceName(UnitName), $"'{UnitName}' is not a unit name for this service: letters, digits and :_.- ending in .service");
        Require(Margin >= TimeSpan.Zero && Margin.TotalSeconds <= MaxMarginSeconds, $"the margin must be 0 to {MaxMarginSeconds} seconds");
        Require(ThrottleLimit >= 0, "the throttle must be 0 (no limit) or more");
        foreach (var unit in After.Concat(Before))
        {
            Require(IsUnitName(unit), $"'{unit}' is not a unit name (e.g. network-online.target, postgresql.service)");
        }

        foreach (var path in new[] { CastraPath, StateRoot })
        {
            // A line break cannot be written into a unit file in a way every systemd reads back; a NUL cannot be a path.
            Require(!path.Any(c => c is '\n' or '\r' or '\0'), $"the path '{path.ReplaceLineEndings(" ")}' contains a line break");
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new CastraException(ErrorIds.InvalidHostShutdownUnit, CastraErrorCategory.InvalidArgument, message);
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9:_.\\@-]+\.(service|target|mount|socket|slice|scope|path|device|swap|automount|timer)$", RegexOptions.CultureInvariant)]
    private static partial Regex UnitNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9:_.-]+\.service$", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceNamePattern();
}

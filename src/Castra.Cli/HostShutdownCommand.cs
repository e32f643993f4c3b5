using System.CommandLine;
using System.CommandLine.Parsing;
using Castra.Errors;
using Castra.Events;
using Castra.HostShutdown;
using Castra.Serialization;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Cli;

/// <summary>
/// <c>castra host-shutdown show|install|remove</c>: the systemd unit that runs <c>castra down --all</c> at host shutdown
/// (what libvirt-guests.service is for libvirt). See docs/host-shutdown.md.
/// </summary>
internal static class HostShutdownCommand
{
    public static Command Create() => new("host-shutdown", "A systemd unit that stops every VM (castra down --all) when the host shuts down: show, install, remove")
    {
        CreateUnitCommand("show", "Print the unit install would write (TimeoutStopSec from the VMs' plans now); write nothing", install: false),
        CreateUnitCommand("install", "Write the unit (atomically, 0644, never through a link, only over a unit Castra wrote unless --force), then systemctl daemon-reload and enable --now when systemd runs this host", install: true),
        CreateRemove(),
    };

    private static Command CreateUnitCommand(string name, string description, bool install)
    {
        var unitDir = UnitDirectory();
        var unitName = UnitName();
        var castra = new Option<string?>("--castra") { Description = "The castra executable the unit runs (default: this one)", HelpName = "PATH" };
        var margin = SecondsOption.Create("--margin", $"Seconds added to the worst case for TimeoutStopSec (default {HostShutdownSettings.DefaultMargin.TotalSeconds:0})", HostShutdownSettings.MaxMarginSeconds, allowZero: true);
        var after = UnitList("--after", "Stop the VMs before this unit at shutdown (After=; repeatable), e.g. a database the guests use. Always: " + string.Join(' ', HostShutdownSettings.DefaultAfter));
        var before = UnitList("--before", "Stop the VMs after this unit at shutdown (Before=; repeatable)");
        var cooperative = SecondsOption.Create("--cooperative-timeout", "Passed to castra down (default: vm.json, else 60)", ShutdownTimeouts.MaxSeconds);
        var term = SecondsOption.Create("--term-timeout", "Passed to castra down (default: vm.json, else 10)", ShutdownTimeouts.MaxSeconds);
        var kill = SecondsOption.Create("--kill-timeout", "Passed to castra down (default: vm.json, else 5)", ShutdownTimeouts.MaxSeconds);
        var throttle = new Option<int>("--throttle") { Description = "Passed to castra down: at most N VMs at once (0: no limit)", HelpName = "N" };
        throttle.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--throttle must be 0 (no limit) or more");
            }
        });
        var force = new Option<bool>("--force") { Description = "Replace a unit file of that name that Castra did not write" };
        var noSystemctl = NoSystemctl();
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();

        var command = new Command(name, description) { unitDir, unitName, castra, margin, after, before, cooperative, term, kill, throttle, json, home };
        if (install)
        {
            command.Add(force);
            command.Add(noSystemctl);
        }

        command.SetAction(async (parse, _) =>
        {
            var label = $"castra host-shutdown {name}";
            HostShutdownSettings settings;
            try
            {
                settings = new HostShutdownSettings
                {
                    CastraPath = CastraPath(parse.GetValue(castra)),
                    StateRoot = StateRoot.Resolve(parse.GetValue(home)).Path,
                    UnitDirectory = Path.GetFullPath(parse.GetValue(unitDir)!),
                    UnitName = parse.GetValue(unitName)!,
                    Margin = SecondsOption.ToSpan(parse.GetValue(margin)) ?? HostShutdownSettings.DefaultMargin,
                    After = parse.GetValue(after) ?? [],
                    Before = parse.GetValue(before) ?? [],
                    CooperativeTimeout = SecondsOption.ToSpan(parse.GetValue(cooperative)),
                    TermTimeout = SecondsOption.ToSpan(parse.GetValue(term)),
                    KillTimeout = SecondsOption.ToSpan(parse.GetValue(kill)),
                    ThrottleLimit = parse.GetValue(throttle),
                };
                settings.Validate();
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"{label}: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ex.ErrorId == ErrorIds.CastraCliNotFound ? ExitCodes.Refused : ExitCodes.Usage;
            }

            using var terminal = new Terminal();
            try
            {
                var unit = await HostShutdownService.PreviewAsync(settings, CliWording.Instance, terminal.Token).ConfigureAwait(false);
                if (!install)
                {
                    Console.Out.Write(parse.GetValue(json) ? CastraJson.Serialize(unit) + Environment.NewLine : unit.Text);
                    return ExitCodes.Success;
                }

                var change = await HostShutdownService.InstallAsync(unit, parse.GetValue(force), CliWording.Instance, !parse.GetValue(noSystemctl), terminal.Token).ConfigureAwait(false);
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(CastraJson.Serialize(change));
                    return ExitCodes.Success;
                }

                Console.Out.WriteLine($"{change.Action.ToLowerInvariant()} {change.Path}: TimeoutStopSec={unit.TimeoutStopSeconds} " +
                    $"(worst case of castra down --all {EventText.Seconds(unit.WorstCaseMs)} over {unit.VmCount} VM(s) + margin {EventText.Seconds(unit.MarginMs)})");
                PrintCommands(change, parse.GetValue(noSystemctl));
                return ExitCodes.Success;
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"{label}: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ExitCodes.Refused;
            }
            catch (OperationCanceledException) when (terminal.Token.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }

    private static Command CreateRemove()
    {
        var unitDir = UnitDirectory();
        var unitName = UnitName();
        var json = CommonOptions.Json();
        var noSystemctl = NoSystemctl();
        var command = new Command("remove", "Deactivate and delete the unit, only if Castra wrote it, without stopping any VM (it is first replaced by one with no ExecStop)") { unitDir, unitName, noSystemctl, json };
        command.SetAction(async (parse, _) =>
        {
            using var terminal = new Terminal();
            try
            {
                var change = await HostShutdownService.RemoveAsync(Path.GetFullPath(parse.GetValue(unitDir)!), parse.GetValue(unitName)!, !parse.GetValue(noSystemctl), terminal.Token).ConfigureAwait(false);
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(CastraJson.Serialize(change));
                    return ExitCodes.Success;
                }

                Console.Out.WriteLine($"removed {change.Path}");
                PrintCommands(change, parse.GetValue(noSystemctl));
                return ExitCodes.Success;
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra host-shutdown remove: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ex.ErrorId switch
                {
                    ErrorIds.HostShutdownUnitNotFound => ExitCodes.NotFound,
                    ErrorIds.InvalidHostShutdownUnit => ExitCodes.Usage,
                    _ => ExitCodes.Refused,
                };
            }
            catch (OperationCanceledException) when (terminal.Token.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }

    private static void PrintCommands(HostShutdownChange change, bool skipped)
    {
        if (change.SystemctlRun)
        {
            foreach (var command in change.Commands)
            {
                Console.Out.WriteLine($"ran: {command}");
            }

            return;
        }

        Console.Out.WriteLine(skipped
            ? "systemctl was not run (--no-systemctl). To make the change take effect, run:"
            : "systemd is not running this host (PID 1 is not systemd): nothing was enabled or disabled. On the host that boots with this unit, run:");
        foreach (var command in change.Commands)
        {
            Console.Out.WriteLine($"    {command}");
        }
    }

    /// <summary>The given castra, made absolute; by default the executable running now (the native castra).</summary>
    /// <exception cref="CastraException">CastraCliNotFound.</exception>
    private static string CastraPath(string? given)
    {
        var path = given is null ? Environment.ProcessPath : Path.GetFullPath(given);

        // Run as `dotnet castra.dll` (the framework-dependent build), this process is dotnet: not a program the unit can run as castra.
        if (given is null && path is not null && Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            throw new CastraException(ErrorIds.CastraCliNotFound, CastraErrorCategory.ObjectNotFound,
                $"this castra runs inside {path}: name the castra executable the unit should run with --castra PATH");
        }

        if (path is null || !File.Exists(path))
        {
            throw new CastraException(ErrorIds.CastraCliNotFound, CastraErrorCategory.ObjectNotFound,
                $"the castra executable {(path ?? "(unknown)")} does not exist: name it with --castra PATH");
        }

        return path;
    }

    private static Option<bool> NoSystemctl() => new("--no-systemctl")
    {
        Description = "Only write or delete the file; print the systemctl commands instead of running them (an image being prepared, a unit directory systemd does not read)",
    };

    private static Option<string> UnitDirectory() => new("--unit-dir")
    {
        Description = $"Where the unit file goes (default {HostShutdownSettings.DefaultUnitDirectory})",
        HelpName = "DIR",
        DefaultValueFactory = _ => HostShutdownSettings.DefaultUnitDirectory,
    };

    private static Option<string> UnitName()
    {
        var option = new Option<string>("--unit-name")
        {
            Description = $"The unit's name (default {HostShutdownSettings.DefaultUnitName})",
            HelpName = "NAME",
            DefaultValueFactory = _ => HostShutdownSettings.DefaultUnitName,
        };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } value && !HostShutdownSettings.IsServiceName(value))
            {
                r.AddError($"--unit-name: '{value}' is not a service unit name (letters, digits and :_.- ending in .service)");
            }
        });
        return option;
    }

    private static Option<string[]> UnitList(string name, string description)
    {
        var option = new Option<string[]>(name) { Description = description, HelpName = "UNIT", AllowMultipleArgumentsPerToken = false };
        option.Validators.Add(r =>
        {
            foreach (var unit in r.GetValueOrDefault<string[]>() ?? [])
            {
                if (!HostShutdownSettings.IsUnitName(unit))
                {
                    r.AddError($"{name}: '{unit}' is not a unit name (e.g. network-online.target, postgresql.service)");
                }
            }
        });
        return option;
    }
}

using System.CommandLine;
using Castra.Errors;
using Castra.Launch;
using Castra.Serialization;
using Castra.State;

namespace Castra.Cli;

/// <summary><c>castra up</c>: start QEMU wired for a clean shutdown (pidfile, QMP, serial log, optional guest agent).</summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The VM's name (letters, digits, '-', '_', '.')" };
        var kernel = new Option<string?>("--kernel") { Description = "Boot this kernel", HelpName = "FILE" };
        var initrd = new Option<string?>("--initrd") { Description = "Initial ramdisk for --kernel", HelpName = "FILE" };
        var append = new Option<string?>("--append") { Description = "Kernel command line for --kernel", HelpName = "TEXT" };
        var disk = new Option<string?>("--disk") { Description = "Boot this disk image", HelpName = "IMAGE" };
        var ephemeral = new Option<bool>("--ephemeral") { Description = "Run on a throwaway qcow2 overlay of --disk, deleted after the VM stops" };
        var memory = new Option<int>("--memory") { Description = "Memory in MiB (default 512)", DefaultValueFactory = _ => 512, HelpName = "MIB" };
        var cpus = new Option<int>("--cpus") { Description = "Virtual CPUs (default 1)", DefaultValueFactory = _ => 1, HelpName = "N" };
        var agent = new Option<bool>("--agent") { Description = "Add the guest agent channel (qga.sock)" };
        var cooperative = SecondsOption.Create("--cooperative-timeout", "This VM's cooperative window, stored in vm.json", Shutdown.ShutdownTimeouts.MaxSeconds);
        var term = SecondsOption.Create("--term-timeout", "This VM's wait after SIGTERM, stored in vm.json", Shutdown.ShutdownTimeouts.MaxSeconds);
        var kill = SecondsOption.Create("--kill-timeout", "This VM's wait after SIGKILL, stored in vm.json", Shutdown.ShutdownTimeouts.MaxSeconds);
        var order = ShutdownOrderOption.Create("This VM's shutdown order, stored in vm.json (0 to 1000, default 0): castra down of several VMs stops lower orders first, group by group");
        var qemu = new Option<string?>("--qemu") { Description = $"QEMU binary (default {VmLauncher.DefaultQemu})", HelpName = "PATH" };
        var accel = new Option<string>("--accel") { Description = "auto (KVM if usable, else TCG), kvm or tcg", DefaultValueFactory = _ => "auto" };
        accel.AcceptOnlyFromAmong("auto", "kvm", "tcg");
        var escalation = new Option<Shutdown.ShutdownEscalation?>("--escalation") { Description = "This VM's escalation, stored in vm.json: signals, or save (a guest that ignores the power button is saved before any signal)", HelpName = "signals|save" };
        var saveTimeout = SecondsOption.Create("--save-timeout", "This VM's save timeout, stored in vm.json", Shutdown.ShutdownTimeouts.MaxSeconds);
        var discard = new Option<bool>("--discard-saved-state") { Description = "Boot afresh even if the VM has a saved state (castra down --save), discarding it; without it a saved state is resumed, or the start refused if the options differ from the saved VM's" };
        var extra = new Argument<string[]>("QEMU-ARGS") { Description = "Extra QEMU arguments, after --", Arity = ArgumentArity.ZeroOrMore };
        var json = CommonOptions.Json();
        var home = CommonOptions.Home();

        var command = new Command("up", "Start a VM under the state root, ready to be shut down cleanly; with only NAME, again from the launch its vm.json records")
        {
            name, extra, kernel, initrd, append, disk, ephemeral, memory, cpus, agent, cooperative, term, kill, order, escalation, saveTimeout, qemu, accel, discard, json, home,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var launcher = new VmLauncher(StateRoot.Resolve(parse.GetValue(home)), CliWording.Instance);
                if (parse.GetValue(kernel) is null && parse.GetValue(disk) is null && parse.GetValue(initrd) is null && parse.GetValue(append) is null && !parse.GetValue(ephemeral))
                {
                    // castra up NAME: the recorded launch; the options given here replace their recorded values.
                    var overrides = new LaunchOverrides
                    {
                        MemoryMB = Given(parse, memory) ? parse.GetValue(memory) : null,
                        CpuCount = Given(parse, cpus) ? parse.GetValue(cpus) : null,
                        GuestAgent = Given(parse, agent) ? parse.GetValue(agent) : null,
                        CooperativeTimeoutSeconds = parse.GetValue(cooperative),
                        TermTimeoutSeconds = parse.GetValue(term),
                        KillTimeoutSeconds = parse.GetValue(kill),
                        QemuPath = parse.GetValue(qemu),
                        Accelerator = Given(parse, accel) ? parse.GetValue(accel) : null,
                        ExtraArguments = parse.GetResult(extra) is { Tokens.Count: > 0 } ? parse.GetValue(extra) : null,
                        ShutdownOrder = parse.GetValue(order),
                        Escalation = parse.GetValue(escalation),
                        SaveTimeoutSeconds = parse.GetValue(saveTimeout),
                        DiscardSavedState = parse.GetValue(discard),
                    };
                    Print(await launcher.StartRecordedAsync(parse.GetValue(name)!, overrides, cancellationToken).ConfigureAwait(false), parse.GetValue(json));
                    return ExitCodes.Success;
                }

                var options = new LaunchOptions
                {
                    Kernel = parse.GetValue(kernel),
                    Initrd = parse.GetValue(initrd),
                    Append = parse.GetValue(append),
                    Disk = parse.GetValue(disk),
                    Ephemeral = parse.GetValue(ephemeral),
                    MemoryMB = parse.GetValue(memory),
                    CpuCount = parse.GetValue(cpus),
                    GuestAgent = parse.GetValue(agent),
                    CooperativeTimeoutSeconds = parse.GetValue(cooperative),
                    TermTimeoutSeconds = parse.GetValue(term),
                    KillTimeoutSeconds = parse.GetValue(kill),
                    ShutdownOrder = parse.GetValue(order),
                    Escalation = parse.GetValue(escalation),
                    SaveTimeoutSeconds = parse.GetValue(saveTimeout),
                    QemuPath = parse.GetValue(qemu),
                    Accelerator = parse.GetValue(accel) ?? "auto",
                    ExtraArguments = parse.GetValue(extra) ?? [],
                    DiscardSavedState = parse.GetValue(discard),
                };
                Print(await launcher.StartAsync(parse.GetValue(name)!, options, cancellationToken).ConfigureAwait(false), parse.GetValue(json));
                return ExitCodes.Success;
            }
            catch (CastraException ex)
            {
                await Console.Error.WriteLineAsync($"castra up: {ex.Message} [{ex.ErrorId}]").ConfigureAwait(false);
                return ex.ErrorId switch
                {
                    ErrorIds.InvalidLaunchOptions or ErrorIds.InvalidVmName or ErrorIds.SocketPathTooLong => ExitCodes.Usage,
                    ErrorIds.VmNotFound => ExitCodes.UnknownVm,
                    _ => ExitCodes.NotStopped,
                };
            }
        });

        return command;
    }

    /// <summary>The option was typed on the command line (not only its default).</summary>
    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    internal static void Print(VmInfo vm, bool json) =>
        Console.Out.WriteLine(json
            ? CastraJson.Serialize(vm)
            : $"{vm.Name}: {vm.State}, PID {vm.Pid}, QMP {(vm.Qmp ? "yes" : "no")}, agent {(vm.Agent ? "yes" : "no")} ({vm.Directory})");
}

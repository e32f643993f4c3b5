using System.Globalization;

namespace Castra.Bench;

/// <summary>The command line: a handful of flags, hand-parsed (the bench takes no dependency for this).</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        dotnet run -c Release --project bench/Castra.Bench -- [options]
          --vms N[,N…]           fleet sizes (default 10,100,1000)
          --mix M                graceful | mixed (70 % graceful, 20 % ignore-acpi, 10 % ignore-term) |
                                 behaviour:percent,… ; repeatable (default: graceful, then mixed)
          --delay-ms D           how long a graceful fake takes to exit after system_powerdown (default 500)
          --baseline-max-vms M   run the baselines (shell loop, throttle 1) up to this fleet size and extrapolate
                                 above it, labelled (default 100; 0: no baselines)
          --sections S[,S…]      what to run (default fleet,cli,guest,syscalls): fleet = the fake fleets above;
                                 cli = `castra status` whole process, native vs JIT; guest = a real tiny ACPI guest
                                 stopped by castra down, Stop-CastraVm, virsh and the shell loop; syscalls = strace
                                 counts per VM of `castra down --all`
          --no-cli               the same as leaving cli out of --sections
          --guest-runs N         measured rounds of the guest section, after one warm-up round (default 7)
          --syscall-vms N[,N…]   fleet sizes traced by the syscalls section (default 10,100)
          --no-warm-up           measure from a cold process (the JIT compiling the engine is then part of the figures)
          --state-dir DIR        where the throwaway state roots go (default: the temp directory)
          --fake-qemu PATH       use this fake-qemu binary (named qemu-system-*) instead of compiling tests/fixtures/fake-qemu
          --json                 print the report as JSON on stdout (progress still goes to stderr)
          --json-file PATH       also write the JSON report to PATH (the table still goes to stdout)
        """;

    public IReadOnlyList<int> Sizes { get; init; } = [10, 100, 1000];

    public IReadOnlyList<FleetMix> Mixes { get; init; } = [FleetMix.Graceful, FleetMix.Mixed];

    public int ExitDelayMs { get; init; } = 500;

    public int BaselineMaxVms { get; init; } = 100;

    public bool MeasureCli { get; init; } = true;

    public bool MeasureFleet { get; init; } = true;

    public bool MeasureGuest { get; init; } = true;

    public bool MeasureSyscalls { get; init; } = true;

    public int GuestRuns { get; init; } = 7;

    public IReadOnlyList<int> SyscallSizes { get; init; } = [10, 100];

    public bool WarmUp { get; init; } = true;

    public string StateDirectory { get; init; } = Path.GetTempPath();

    public string? FakeQemu { get; init; }

    public bool Json { get; init; }

    public string? JsonFile { get; init; }

    public bool Help { get; init; }

    /// <exception cref="FormatException">An unknown flag or a bad value.</exception>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        var mixes = new List<FleetMix>();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--vms" => options with { Sizes = Value().Split(',').Select(PositiveInt).ToList() },
                "--mix" => Add(options, mixes, FleetMix.Parse(Value())),
                "--delay-ms" => options with { ExitDelayMs = NonNegativeInt(Value()) },
                "--baseline-max-vms" => options with { BaselineMaxVms = NonNegativeInt(Value()) },
                "--no-cli" => options with { MeasureCli = false },
                "--sections" => Sections(options, Value()),
                "--guest-runs" => options with { GuestRuns = PositiveInt(Value()) },
                "--syscall-vms" => options with { SyscallSizes = Value().Split(',').Select(PositiveInt).ToList() },
                "--no-warm-up" => options with { WarmUp = false },
                "--state-dir" => options with { StateDirectory = Path.GetFullPath(Value()) },
                "--fake-qemu" => options with { FakeQemu = Path.GetFullPath(Value()) },
                "--json" => options with { Json = true },
                "--json-file" => options with { JsonFile = Path.GetFullPath(Value()) },
                "-h" or "--help" => options with { Help = true },
                var other => throw new FormatException($"unknown option '{other}'"),
            };
        }

        return mixes.Count > 0 ? options with { Mixes = mixes } : options;
    }

    private static BenchOptions Sections(BenchOptions options, string list)
    {
        var sections = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = sections.Except(["fleet", "cli", "guest", "syscalls"]).FirstOrDefault();
        return unknown is not null
            ? throw new FormatException($"unknown section '{unknown}' (fleet, cli, guest, syscalls)")
            : options with
            {
                MeasureFleet = sections.Contains("fleet"),
                MeasureCli = sections.Contains("cli"),
                MeasureGuest = sections.Contains("guest"),
                MeasureSyscalls = sections.Contains("syscalls"),
            };
    }

    private static BenchOptions Add(BenchOptions options, List<FleetMix> mixes, FleetMix mix)
    {
        mixes.Add(mix);
        return options;
    }

    private static int PositiveInt(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new FormatException($"'{text}' is not a positive number");

    private static int NonNegativeInt(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"'{text}' is not a number");
}

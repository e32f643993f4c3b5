using System.Runtime.InteropServices;
using Castra.Bench;

// Castra's fleet-shutdown benchmark (docs/performance.md). Progress goes to stderr; the report to stdout.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"castra-bench: {ex.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

using var cancel = new CancellationTokenSource();

// Whatever happens, no fake may outlive the benchmark: Ctrl+C, SIGTERM and crashes all kill the fleets.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
{
    ctx.Cancel = true;
    cancel.Cancel();
});
AppDomain.CurrentDomain.ProcessExit += (_, _) => Fleet.KillAllLive();

try
{
    var tools = NativeTools.Prepare(options.FakeQemu);
    var command = "dotnet run -c Release --project bench/Castra.Bench --" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
    var report = await new BenchRunner(options, tools, Console.Error).RunAsync(command, cancel.Token);
    Console.Out.Write(options.Json ? Report.ToJson(report) + Environment.NewLine : Report.ToTable(report));
    if (options.JsonFile is { } file)
    {
        await File.WriteAllTextAsync(file, Report.ToJson(report) + Environment.NewLine);
    }

    return 0;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("castra-bench: interrupted; the fleet was killed");
    return 130;
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine($"castra-bench: {ex.Message}");
    return 1;
}
finally
{
    Fleet.KillAllLive();
}

namespace Castra.Bench.Guest;

/// <summary>
/// One booted tiny ACPI guest (tests/fixtures/guest), ready to be stopped: it has printed CASTRA-READY on its serial
/// console (its acpid holds the power button), and a <see cref="PowerOffWatch"/> is attached. Booting never counts.
/// Dispose kills whatever is left of it and removes its files.
/// </summary>
internal abstract class GuestTarget : IDisposable
{
    public const string ReadyMarker = "CASTRA-READY acpi";

    /// <summary>What the guest prints just before it powers itself off (its acpid ran the power-button script).</summary>
    public const string PowerOffMarker = "CASTRA-POWEROFF acpi";

    public required string Name { get; init; }

    public required int QemuPid { get; init; }

    public required string SerialLog { get; init; }

    public required PowerOffWatch Watch { get; init; }

    public bool GuestPoweredItselfOff => File.Exists(SerialLog) && File.ReadAllText(SerialLog).Contains(PowerOffMarker, StringComparison.Ordinal);

    public abstract void Dispose();

    /// <summary>Waits (polling the serial log every 20 ms) for the ready marker; boots take ~2.5 s under TCG here.</summary>
    protected static async Task WaitReadyAsync(string serialLog, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(File.Exists(serialLog) && File.ReadAllText(serialLog).Contains(ReadyMarker, StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline)
            {
                var log = File.Exists(serialLog) ? File.ReadAllText(serialLog) : "(no serial log)";
                throw new InvalidOperationException($"the guest did not print '{ReadyMarker}' within {timeout.TotalSeconds} s: {log}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }
}

namespace Castra.Bench.Guest;

/// <summary>
/// One stop of one guest. All times in ms. Wall: the user's view (start of the action → its result). PowerOff: the
/// guest's own time, QEMU's POWERDOWN event → QEMU's process gone. Overhead = Wall − PowerOff: what the tool adds.
/// ButtonAfter: start → POWERDOWN (start-up, connecting, the handshake); AfterExit: QEMU gone → result (detection,
/// final writes, process exit). Ok: the tool reported success, the guest printed its power-off marker, QEMU exited.
/// </summary>
internal sealed record GuestRun
{
    public required string Driver { get; init; }

    public required int Round { get; init; }

    public required bool WarmUp { get; init; }

    public required bool Ok { get; init; }

    public string? Problem { get; init; }

    public double? WallMs { get; init; }

    public double? PowerOffMs { get; init; }

    public double? OverheadMs { get; init; }

    public double? ButtonAfterMs { get; init; }

    public double? AfterExitMs { get; init; }

    /// <summary>QEMU's SHUTDOWN event → its process gone (QEMU's own exit work; part of PowerOff).</summary>
    public double? ShutdownToExitMs { get; init; }

    public double? ImportModuleMs { get; init; }

    /// <summary>Castra's drivers only: the overhead split by the engine's own event timestamps.</summary>
    public OverheadSplit? Split { get; init; }

    public double? ProcessReadyMs { get; init; }

    /// <summary>The 1-minute load average just before the run: other agents share these two cores.</summary>
    public required double Load1m { get; init; }
}

/// <summary>
/// Where Castra's overhead goes, in ms. Startup: the action started → ShutdownRequested (process start-up, parsing,
/// loading; for the cmdlet, binding). Handshake: ShutdownRequested → QEMU's POWERDOWN (lock, status writes, QMP
/// connect, query-status, the button). Detection: QEMU exited → CooperativeSucceeded. Finish: CooperativeSucceeded →
/// ShutdownComplete (the final status, journal fsync, audit). Return: ShutdownComplete → the process exited or the
/// cmdlet returned.
/// </summary>
internal sealed record OverheadSplit(double? StartupMs, double? HandshakeMs, double? DetectionMs, double? FinishMs, double? ReturnMs);

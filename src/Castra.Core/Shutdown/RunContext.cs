using Castra.Errors;
using Castra.Hooks;
using Castra.Processes;
using Castra.State;

namespace Castra.Shutdown;

/// <summary>What the steps of one VM's run share: its directory, options, recorder and status, the proven QEMU, and what they did.</summary>
internal sealed class RunContext
{
    private readonly IShutdownObserver _observer;

    public RunContext(VmDirectory dir, ShutdownOptions options, ShutdownTimeouts timeouts, EventRecorder recorder, StatusTracker status, IShutdownObserver observer)
    {
        Dir = dir;
        Options = options;
        Timeouts = timeouts;
        Recorder = recorder;
        Status = status;
        _observer = observer;
    }

    public VmDirectory Dir { get; }

    public VmPaths Vm => Dir.Paths;

    public ShutdownOptions Options { get; }

    public ShutdownTimeouts Timeouts { get; }

    public EventRecorder Recorder { get; }

    public StatusTracker Status { get; }

    public string ShutdownId => Status.Document.ShutdownId;

    /// <summary>The proven QEMU, pinned (pidfd): set when it was found running.</summary>
    public TrackedProcess? Process { get; set; }

    public HookStageSummary Hooks { get; } = new();

    /// <summary>Castra had an effect on the VM: a request was delivered or a signal sent.</summary>
    public bool Changed { get; set; }

    /// <summary>Why a signal could not be sent, for the final detail.</summary>
    public string? SignalFailure { get; set; }

    public int SessionsInterrupted { get; set; }

    /// <summary>vm.json as the run read it (null when missing or unreadable): a save fingerprints its launch.</summary>
    public VmDefinition? Definition { get; set; }

    /// <summary>The guest's state is in the VM's saved image: however QEMU then ends, the run ends Saved.</summary>
    public bool StateSaved { get; set; }

    public void Diagnose(DiagnosticSeverity severity, string errorId, CastraErrorCategory category, string message) =>
        _observer.OnDiagnostic(new ShutdownDiagnostic(Vm.Name, severity, errorId, category, message));
}

using System.Runtime.InteropServices;

namespace Castra.Cli;

/// <summary>
/// Turns SIGINT/SIGTERM into cancellation instead of process death, so an interrupted shutdown records itself
/// as Cancelled and sends no further signal (a second Ctrl+C still ends the process at once).
/// </summary>
internal sealed class Terminal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Terminal()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                if (!_cts.IsCancellationRequested)
                {
                    context.Cancel = true;
                    _cts.Cancel();
                }
            }));
        }
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cts.Dispose();
    }
}

using System.Runtime.InteropServices;

namespace Castra.Cli;

/// <summary>
/// Passes SIGINT/SIGTERM that castra receives on to something it waits for (a foreground session), one step further
/// each time: the first signal sends SIGINT, the second SIGTERM, any later one SIGKILL. castra itself keeps waiting,
/// so it can still report how the session ended. Signals that arrive before <see cref="Attach"/> are sent then.
/// </summary>
internal sealed class SignalLadder : IDisposable
{
    public const int SigInt = 2;
    public const int SigTerm = 15;
    public const int SigKill = 9;

    private static readonly int[] Steps = [SigInt, SigTerm, SigKill];

    private readonly object _gate = new();
    private readonly CancellationTokenSource _first = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private Func<int, bool>? _send;
    private int _received;
    private int _sent;
    private bool _disposed;

    public SignalLadder()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                bool first;
                lock (_gate)
                {
                    if (_disposed)
                    {
                        return;
                    }

                    _received++;
                    first = _received == 1;
                    Pump();
                }

                if (first)
                {
                    try
                    {
                        _first.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // Disposed between the check and here: castra is on its way out.
                    }
                }
            }));
        }
    }

    /// <summary>Cancelled by the first signal (stops what comes before <see cref="Attach"/>, such as starting).</summary>
    public CancellationToken FirstSignal => _first.Token;

    /// <summary>From now on, signals go to <paramref name="send"/> (true: delivered). Also sends those already received.</summary>
    public void Attach(Func<int, bool> send, Action<int, bool> report)
    {
        lock (_gate)
        {
            _send = signal =>
            {
                var delivered = send(signal);
                report(signal, delivered);
                return delivered;
            };
            Pump();
        }
    }

    public static string Name(int signal) => signal switch
    {
        SigInt => "SIGINT",
        SigTerm => "SIGTERM",
        SigKill => "SIGKILL",
        _ => $"signal {signal}",
    };

    /// <summary>The signal the next step sends.</summary>
    public static int Next(int signal) => signal == SigInt ? SigTerm : SigKill;

    private void Pump()
    {
        while (_send is not null && _sent < _received)
        {
            var signal = Steps[Math.Min(_sent, Steps.Length - 1)];
            _sent++;
            _send(signal);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _first.Dispose();
    }
}

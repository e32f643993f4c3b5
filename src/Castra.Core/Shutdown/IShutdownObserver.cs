using Castra.Events;

namespace Castra.Shutdown;

/// <summary>
/// Receives every event and diagnostic as it happens, from many VMs' tasks at once: implementations must be
/// thread-safe and must not block (queue and return). Each VM's events arrive in that VM's order.
/// </summary>
public interface IShutdownObserver
{
    void OnEvent(ShutdownEvent evt);

    void OnDiagnostic(ShutdownDiagnostic diagnostic);
}

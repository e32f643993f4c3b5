using System.Management.Automation;
using Castra.Errors;
using Castra.State;

namespace Castra.PowerShell;

/// <summary>
/// Plumbing every Castra cmdlet shares: -StateRoot, a cancellation token that Ctrl+C (StopProcessing) cancels,
/// and disposal. Output happens only on the pipeline thread; workers hand their results over through a queue.
/// </summary>
public abstract class CastraCmdletBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private bool _disposed;

    /// <summary>The state root; default $env:CASTRA_HOME, else ~/.castra.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateRoot { get; set; }

    /// <summary>Cancelled by Ctrl+C / StopProcessing.</summary>
    protected CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>The resolved state root; a bad one ends the whole call (ThrowTerminatingError).</summary>
    protected StateRoot ResolveStateRoot()
    {
        try
        {
            return State.StateRoot.Resolve(StateRoot is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(StateRoot));
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            throw; // Unreachable: ThrowTerminatingError throws.
        }
    }

    /// <summary>The value when the caller gave the parameter, else null (so vm.json and defaults apply).</summary>
    protected double? BoundOrNull(string parameter, double value) => MyInvocation.BoundParameters.ContainsKey(parameter) ? value : null;

    protected override void StopProcessing()
    {
        // Runs on another thread: only signal here.
        _cancellation.Cancel();
        base.StopProcessing();
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _cancellation.Dispose();
        }

        _disposed = true;
    }
}

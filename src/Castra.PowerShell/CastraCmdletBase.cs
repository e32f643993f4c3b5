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
    private Task? _work;

    /// <summary>The state root; default $env:CASTRA_HOME, else ~/.castra. Objects from Get-CastraVm bring theirs.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
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

    /// <summary>
    /// The resolved state root, which must exist: a misspelt CASTRA_HOME or a task without HOME is a clear terminating
    /// error naming the root and how it was chosen, never an empty, successful result.
    /// </summary>
    protected StateRoot ResolveExistingStateRoot()
    {
        var root = ResolveStateRoot();
        try
        {
            root.EnsureExists(PowerShellWording.Instance);
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
        }

        return root;
    }

    /// <summary>Work that may outlive a stopped pipeline (Ctrl+C); Dispose waits for it before releasing the token.</summary>
    protected void Track(Task work) => _work = work;

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
            // After Ctrl+C the pipeline unwinds while engine tasks finish their cancellation (promptly: every wait
            // observes the token); let them, then release the token source they use.
            _cancellation.Cancel();
            try
            {
                _work?.Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
                // Already reported, or the pipeline is gone.
            }

            _cancellation.Dispose();
        }

        _disposed = true;
    }
}

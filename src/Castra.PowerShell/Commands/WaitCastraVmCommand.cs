using System.Management.Automation;
using Castra.Errors;
using Castra.Launch;
using Castra.PowerShell.Selection;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Waits until VMs are ready to cooperate with a shutdown: QMP says running, the guest agent (where there is one) answers, optionally a serial-console marker has appeared.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "CastraVm")]
[OutputType(typeof(VmReadiness))]
public sealed class WaitCastraVmCommand : CastraCmdletBase
{
    private readonly List<string> _patterns = [];
    private readonly Dictionary<string, State.StateRoot> _roots = new(StringComparer.Ordinal);

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Seconds to wait for all of them together (default 60).</summary>
    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double Timeout { get; set; } = ReadinessOptions.DefaultTimeout.TotalSeconds;

    /// <summary>Text that must also appear on the VM's serial console (serial.log in its directory).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateLength(1, ReadinessOptions.MaxMarkerLength)]
    public string? ForMarker { get; set; }

    protected override void ProcessRecord()
    {
        var resolved = ResolveStateRoot();
        _roots.TryAdd(resolved.Path, resolved);
        _patterns.AddRange(Name);
    }

    protected override void EndProcessing()
    {
        if (_patterns.Count == 0)
        {
            return;
        }

        if (_roots.Count > 1)
        {
            ThrowTerminatingError(ErrorRecords.From(new CastraException(ErrorIds.InvalidStateRoot, CastraErrorCategory.InvalidArgument,
                $"The VMs come from {_roots.Count} state roots ({string.Join(", ", _roots.Keys)}); wait for one state root's VMs per call.")));
        }

        var root = _roots.Values.First();
        IReadOnlyList<string> names;
        var options = new ReadinessOptions { Timeout = TimeSpan.FromSeconds(Timeout), Marker = ForMarker };
        try
        {
            root.EnsureExists(PowerShellWording.Instance);
            options.Validate();
            names = VmNameSelector.Resolve(root, _patterns, WriteError);
        }
        catch (CastraException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex));
            return;
        }

        if (names.Count == 0)
        {
            return;
        }

        IReadOnlyList<ReadinessResult> results;
        try
        {
            var work = new ReadinessWaiter(root).WaitAsync(names, options, CancellationToken);
            Track(work);
            results = work.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return; // Ctrl+C: the pipeline is stopping.
        }

        foreach (var result in results)
        {
            if (result.Readiness is { } readiness)
            {
                WriteObject(readiness);
            }

            if (result.Error is { } error)
            {
                WriteError(ErrorRecords.From(error));
            }
        }
    }
}

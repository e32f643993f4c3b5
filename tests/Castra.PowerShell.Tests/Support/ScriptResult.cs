using System.Management.Automation;

namespace Castra.PowerShell.Tests.Support;

/// <summary>What one script wrote: its output objects and a copy of every stream.</summary>
public sealed record ScriptResult(
    IReadOnlyList<PSObject> Output,
    IReadOnlyList<ErrorRecord> Errors,
    IReadOnlyList<WarningRecord> Warnings,
    IReadOnlyList<VerboseRecord> Verbose,
    IReadOnlyList<ProgressRecord> Progress,
    IReadOnlyList<InformationRecord> Information)
{
    public static ScriptResult From(System.Management.Automation.PowerShell ps, IEnumerable<PSObject> output) => new(
        [.. output],
        [.. ps.Streams.Error],
        [.. ps.Streams.Warning],
        [.. ps.Streams.Verbose],
        [.. ps.Streams.Progress],
        [.. ps.Streams.Information]);

    /// <summary>The output objects whose type (or deserialized type) name is Castra.Events.ShutdownEvent.</summary>
    public IReadOnlyList<PSObject> Events => [.. Output.Where(o => o.TypeNames.Any(t => t.EndsWith("Castra.Events.ShutdownEvent", StringComparison.Ordinal)))];

    /// <summary>The Type property of each event of one VM, in output order.</summary>
    public IReadOnlyList<string> TypesOf(string vm) => [.. Events.Where(e => e.Text("VmName") == vm).Select(e => e.Text("Type") ?? "")];
}

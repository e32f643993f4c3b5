using System.Management.Automation;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// One host's output as the caller gets it: each object tagged as Invoke-Command tags it (PSComputerName, RunspaceId),
/// so the Deserialized.* views show the host and scripts group by it. PSShowComputerName is false: those views show
/// the host in their first column, and true would make PowerShell add a second PSComputerName column at the right.
/// The warnings and verbose messages the host redirected into its output go back to their own streams, prefixed with
/// the host.
/// </summary>
internal sealed class RemoteOutput(string host, Guid runspaceId, int activityId)
{
    private readonly HostProgress _progress = new(host, activityId);

    public void Forward(PSObject item, IRecordSink sink)
    {
        if (Informational(item, "WarningRecord") is { } warning)
        {
            sink.Warning($"[{host}] {warning}");
            return;
        }

        if (Informational(item, "VerboseRecord") is { } verbose)
        {
            sink.Verbose($"[{host}] {verbose}");
            return;
        }

        Tag(item, "PSComputerName", host);
        Tag(item, "RunspaceId", runspaceId);
        Tag(item, "PSShowComputerName", false);
        sink.Output(item);
        if (_progress.Observe(item) is { } progress)
        {
            sink.Progress(progress);
        }
    }

    /// <summary>The host's part ended: its progress bar goes.</summary>
    public void End(IRecordSink sink)
    {
        if (_progress.Completed() is { } completed)
        {
            sink.Progress(completed);
        }
    }

    /// <summary>The message of a warning or verbose record, live or deserialized; null for anything else.</summary>
    private static string? Informational(PSObject item, string type) => item.BaseObject switch
    {
        InformationalRecord record when record.GetType().Name == type => record.Message,
        // Remoting's serializer writes an informational record's message as InformationalRecord_Message.
        _ when item.TypeNames.Contains("Deserialized.System.Management.Automation." + type) =>
            (item.Properties["InformationalRecord_Message"] ?? item.Properties["Message"])?.Value?.ToString() ?? "",
        _ => null,
    };

    private static void Tag(PSObject item, string name, object value)
    {
        if (item.Properties[name] is null)
        {
            item.Properties.Add(new PSNoteProperty(name, value));
        }
    }
}

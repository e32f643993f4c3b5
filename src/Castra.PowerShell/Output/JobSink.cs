using System.Management.Automation;

namespace Castra.PowerShell.Output;

/// <summary>Writes to a job's stream collections, which are thread-safe.</summary>
internal sealed class JobSink(Job job) : IRecordSink
{
    public void Output(object value) => job.Output.Add(PSObject.AsPSObject(value));

    public void Verbose(string message) => job.Verbose.Add(new VerboseRecord(message));

    public void Warning(string message) => job.Warning.Add(new WarningRecord(message));

    public void Error(ErrorRecord record) => job.Error.Add(record);

    public void Progress(ProgressRecord record) => job.Progress.Add(record);
}

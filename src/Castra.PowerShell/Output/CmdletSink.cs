using System.Management.Automation;

namespace Castra.PowerShell.Output;

/// <summary>Writes to the cmdlet's own streams; use only on the pipeline thread.</summary>
/// <param name="errors">Where errors and warnings go: written at once, or kept until every VM is done (<see cref="VmErrors"/>).</param>
internal sealed class CmdletSink(Cmdlet cmdlet, VmErrors errors) : IRecordSink
{
    public void Output(object value) => cmdlet.WriteObject(value);

    public void Verbose(string message) => cmdlet.WriteVerbose(message);

    public void Warning(string message) => errors.Warn(message);

    public void Error(ErrorRecord record) => errors.Report(record);

    public void Progress(ProgressRecord record) => cmdlet.WriteProgress(record);
}

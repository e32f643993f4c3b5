using System.Management.Automation;

namespace Castra.PowerShell.Output;

/// <summary>Writes to the cmdlet's own streams; use only on the pipeline thread.</summary>
internal sealed class CmdletSink(Cmdlet cmdlet) : IRecordSink
{
    public void Output(object value) => cmdlet.WriteObject(value);

    public void Verbose(string message) => cmdlet.WriteVerbose(message);

    public void Warning(string message) => cmdlet.WriteWarning(message);

    public void Error(ErrorRecord record) => cmdlet.WriteError(record);

    public void Progress(ProgressRecord record) => cmdlet.WriteProgress(record);
}

using System.Management.Automation;
using Castra.PowerShell.Output;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// A reading cmdlet's own streams, written as they come (pipeline thread only): unlike a stop, nothing is running on
/// any host that an early end (-ErrorAction Stop) would cut short, so PowerShell's own preferences apply unchanged.
/// </summary>
internal sealed class DirectCmdletSink(Cmdlet cmdlet) : IRecordSink
{
    public void Output(object value) => cmdlet.WriteObject(value);

    public void Verbose(string message) => cmdlet.WriteVerbose(message);

    public void Warning(string message) => cmdlet.WriteWarning(message);

    public void Error(ErrorRecord record) => cmdlet.WriteError(record);

    public void Progress(ProgressRecord record) => cmdlet.WriteProgress(record);
}

using System.Management.Automation;

namespace Castra.PowerShell.Output;

/// <summary>Where a shutdown's records go: the cmdlet's streams (pipeline thread) or a child job's streams.</summary>
internal interface IRecordSink
{
    void Output(object value);

    void Verbose(string message);

    void Warning(string message);

    void Error(ErrorRecord record);

    void Progress(ProgressRecord record);
}

using System.Management.Automation;
using Castra.Errors;
using Castra.Faces;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Shows the current or last shutdown of VMs, from any session, without taking any lock.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CastraShutdownStatus")]
[OutputType(typeof(ShutdownStatus))]
public sealed class GetCastraShutdownStatusCommand : CastraCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VmName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        var root = ResolveStateRoot();
        foreach (var name in VmNameSelector.Resolve(root, Name))
        {
            try
            {
                var vm = root.Vm(name);
                if (!vm.Exists)
                {
                    throw new CastraException(ErrorIds.VmNotFound, CastraErrorCategory.ObjectNotFound, $"No VM named '{name}' under {root.Path}.") { Target = name };
                }

                if (ShutdownStatusReader.Read(vm) is { } status)
                {
                    WriteObject(status);
                }
                else
                {
                    WriteVerbose($"{name}: never shut down by Castra");
                }
            }
            catch (CastraException ex)
            {
                WriteError(ErrorRecords.From(ex));
            }
        }
    }
}

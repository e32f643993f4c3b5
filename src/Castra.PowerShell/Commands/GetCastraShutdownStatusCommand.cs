using System.Management.Automation;
using Castra.Errors;
using Castra.State;

namespace Castra.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Shows the current or last shutdown of VMs, from any session, without taking any lock.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CastraShutdownStatus")]
[OutputType(typeof(ShutdownStatus))]
public sealed class GetCastraShutdownStatusCommand : VmSelectionCmdletBase
{
    protected override void ProcessVm(StateRoot root, string name)
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
}

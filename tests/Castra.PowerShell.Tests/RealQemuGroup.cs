namespace Castra.PowerShell.Tests;

/// <summary>Real guests run one at a time: TCG on two cores has no room for more.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealQemuGroup
{
    public const string Name = "Real QEMU";
}

namespace Castra.Tests.RealQemu;

/// <summary>Real guests run one test at a time: TCG on two cores has no room for more in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealQemuGroup
{
    public const string Name = "Real QEMU";
}

namespace Castra.State;

/// <summary>How a state root was chosen (<see cref="StateRoot.Resolve"/>).</summary>
public enum StateRootOrigin
{
    /// <summary>Named by the caller (-StateRoot, --home, or the library's constructor).</summary>
    Explicit,

    /// <summary>$CASTRA_HOME.</summary>
    Environment,

    /// <summary>The default: ~/.castra.</summary>
    Home,
}

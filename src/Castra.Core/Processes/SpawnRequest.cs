using Microsoft.Win32.SafeHandles;

namespace Castra.Processes;

/// <summary>
/// What to start as a process-group leader: the program, its arguments, extra environment, and the file its output
/// goes to: a descriptor the caller opened safely (no link followed, see State.StateDirectory), never a path the
/// child would open itself.
/// </summary>
internal sealed record SpawnRequest(string Executable, IReadOnlyList<string> Arguments, SafeFileHandle Output)
{
    /// <summary>Added to (or replacing in) the caller's environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Null: the caller's current directory.</summary>
    public string? WorkingDirectory { get; init; }
}

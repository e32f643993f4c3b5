namespace Castra.Processes;

/// <summary>What to start as a process-group leader: the program, its arguments, extra environment, where its output goes.</summary>
internal sealed record SpawnRequest(string Executable, IReadOnlyList<string> Arguments, string OutputPath)
{
    /// <summary>Added to (or replacing in) the caller's environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Null: the caller's current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Append to <see cref="SpawnRequest.OutputPath"/> instead of truncating it.</summary>
    public bool AppendOutput { get; init; }
}

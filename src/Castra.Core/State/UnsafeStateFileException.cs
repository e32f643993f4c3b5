namespace Castra.State;

/// <summary>
/// A path under the state root that Castra refuses to use: a link, not a regular file, too large, hard-linked or
/// owned by someone other than root or the calling user. An <see cref="IOException"/>, so every caller that already
/// degrades on an unreadable or unwritable file (a warning, the shutdown goes on) does so here too.
/// </summary>
public sealed class UnsafeStateFileException : IOException
{
    public UnsafeStateFileException(string path, string problem)
        : base($"{path} {problem}")
    {
        Path = path;
        Problem = problem;
    }

    public UnsafeStateFileException()
        : this("(unknown)", "is unsafe")
    {
    }

    public UnsafeStateFileException(string message)
        : this("(unknown)", message)
    {
    }

    public UnsafeStateFileException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = "(unknown)";
        Problem = message;
    }

    /// <summary>The refused path (for messages only: Castra never opens it by this path).</summary>
    public string Path { get; }

    /// <summary>What is wrong, e.g. "is a symbolic link; Castra never follows links under the state root".</summary>
    public string Problem { get; }
}

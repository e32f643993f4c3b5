namespace Castra.Errors;

/// <summary>
/// A failure with a stable identifier (<see cref="ErrorId"/>, PascalCase, never message text) that the CLI prints
/// and the cmdlets turn into an ErrorRecord's FullyQualifiedErrorId.
/// </summary>
public class CastraException : Exception
{
    public CastraException(string errorId, CastraErrorCategory category, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
    }

    public CastraException()
        : this(ErrorIds.Unexpected, CastraErrorCategory.NotSpecified, "Castra failed.")
    {
    }

    public CastraException(string message)
        : this(ErrorIds.Unexpected, CastraErrorCategory.NotSpecified, message)
    {
    }

    public CastraException(string message, Exception innerException)
        : this(ErrorIds.Unexpected, CastraErrorCategory.NotSpecified, message, innerException)
    {
    }

    public string ErrorId { get; }

    public CastraErrorCategory Category { get; }

    /// <summary>The thing that failed (a VM name, a path), for ErrorRecord.TargetObject.</summary>
    public string? Target { get; init; }
}

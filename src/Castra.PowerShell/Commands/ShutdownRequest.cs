using Castra.Shutdown;

namespace Castra.PowerShell.Commands;

/// <summary>
/// What the faces (CLI options, cmdlet parameters) collect, in their units (seconds, fractions allowed), turned into
/// engine options in one place so both faces mean the same thing by the same input.
/// </summary>
internal sealed record ShutdownRequest
{
    public double? CooperativeTimeoutSeconds { get; init; }

    public double? TermTimeoutSeconds { get; init; }

    public double? KillTimeoutSeconds { get; init; }

    public double? DeadlineSeconds { get; init; }

    public CooperativeMethod Method { get; init; } = CooperativeMethod.Auto;

    public bool Force { get; init; }

    public int ThrottleLimit { get; init; }

    public ShutdownReason Reason { get; init; } = ShutdownReason.UserRequested;

    public string? Message { get; init; }

    /// <exception cref="Errors.CastraException">CastraInvalidTimeout.</exception>
    public ShutdownOptions ToOptions()
    {
        var options = new ShutdownOptions
        {
            Wording = PowerShellWording.Instance,
            CooperativeTimeout = Span(CooperativeTimeoutSeconds),
            TermTimeout = Span(TermTimeoutSeconds),
            KillTimeout = Span(KillTimeoutSeconds),
            Deadline = Span(DeadlineSeconds),
            Method = Method,
            Force = Force,
            ThrottleLimit = ThrottleLimit,
            Reason = Reason,
            Message = Message,
        };
        options.Validate();
        return options;
    }

    private static TimeSpan? Span(double? seconds) => seconds is { } s ? TimeSpan.FromSeconds(s) : null;
}

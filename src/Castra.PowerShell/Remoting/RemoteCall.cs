using System.Collections;
using System.Management.Automation;

namespace Castra.PowerShell.Remoting;

/// <summary>
/// The cmdlet call each host runs: the same Castra cmdlet with the caller's own parameters, in plain values that
/// survive remoting's serialization (switches as booleans, enums as their names), so the remote module binds them
/// exactly as a local call would.
/// </summary>
internal sealed record RemoteCall(string Command, Hashtable Parameters)
{
    /// <summary>
    /// Parameters that are about the local call only: where it runs, how it is returned, and the streams' preferences
    /// this side applies itself (each host writes everything; -ErrorAction Stop is honoured here, across hosts).
    /// </summary>
    private static readonly HashSet<string> LocalOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        "Session", "AsJob", "ErrorAction", "ErrorVariable", "WarningAction", "WarningVariable", "InformationAction",
        "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "ProgressAction", "Debug", "Confirm", "WhatIf",
    };

    /// <summary>The caller's bound parameters as the remote cmdlet gets them, without <paramref name="except"/>.</summary>
    public static Hashtable From(IDictionary<string, object> bound, params string[] except)
    {
        var parameters = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in bound)
        {
            if (!LocalOnly.Contains(name) && !except.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                parameters[name] = Plain(value);
            }
        }

        // Every host writes its records; what stops the call (-ErrorAction Stop) is decided here, once for all hosts.
        parameters["ErrorAction"] = "Continue";
        parameters["WarningAction"] = "Continue";
        return parameters;
    }

    private static object? Plain(object? value) => value switch
    {
        SwitchParameter s => s.IsPresent,
        Enum e => e.ToString(),
        PSObject { BaseObject: var inner } => Plain(inner),
        _ => value,
    };

    public RemoteCall With(string parameter, object? value)
    {
        var copy = new Hashtable(Parameters, StringComparer.OrdinalIgnoreCase) { [parameter] = value };
        return this with { Parameters = copy };
    }
}

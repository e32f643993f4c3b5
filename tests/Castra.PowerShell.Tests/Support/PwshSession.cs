using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Castra.PowerShell.Tests.Support;

/// <summary>
/// One PowerShell session in this process (the SDK's engine, InitialSessionState.CreateDefault2) with the built
/// module imported, as a user's pwsh would have it after Import-Module ./out/Castra. Scripts run in it one at a time.
/// </summary>
public sealed class PwshSession : IDisposable
{
    public PwshSession(ScriptedHost? host = null)
    {
        Host = host ?? new ScriptedHost();
        var state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(BuiltModule.Manifest);
        Runspace = RunspaceFactory.CreateRunspace(Host, state);
        Runspace.Open();
        var module = Run("Get-Module Castra").Output;
        Assert.True(module.Count == 1, $"Castra was not imported from {BuiltModule.Manifest}");
    }

    public ScriptedHost Host { get; }

    public Runspace Runspace { get; }

    /// <summary>Sets a variable the next scripts can read ($name).</summary>
    public PwshSession Set(string name, object? value)
    {
        Runspace.SessionStateProxy.SetVariable(name, value);
        return this;
    }

    /// <summary>A pipeline for the script that the caller runs (and may stop) itself.</summary>
    public System.Management.Automation.PowerShell Prepare(string script)
    {
        var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = Runspace;
        ps.AddScript(script);
        return ps;
    }

    /// <summary>Runs the script to its end and returns its output and streams; a terminating error is thrown.</summary>
    public ScriptResult Run(string script)
    {
        using var ps = Prepare(script);
        var output = ps.Invoke();
        return ScriptResult.From(ps, output);
    }

    /// <summary>
    /// Runs the script inside try/catch and returns the one terminating error it caught. A cmdlet's terminating error
    /// only ends its statement in a script; try/catch sees it, while a non-terminating error passes catch by.
    /// </summary>
    public ErrorRecord RunExpectingTermination(string script)
    {
        var result = Run($"try {{\n{script}\n}} catch {{ $_ }}");
        return (ErrorRecord)Assert.Single(result.Output, o => o.BaseObject is ErrorRecord).BaseObject;
    }

    public void Dispose() => Runspace.Dispose();
}

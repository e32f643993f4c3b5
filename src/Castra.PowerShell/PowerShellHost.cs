using System.Management.Automation;

namespace Castra.PowerShell;

/// <summary>Facts about the PowerShell running the cmdlet that Castra hands to processes it starts.</summary>
internal static class PowerShellHost
{
    /// <summary>
    /// The pwsh that runs script-block hooks: this process when it is pwsh (the usual case), else $PSHOME/pwsh (a
    /// custom host embedding PowerShell is not itself a shell), else null so Castra looks pwsh up on PATH.
    /// </summary>
    public static string? PwshPath(PSCmdlet cmdlet)
    {
        var self = Environment.ProcessPath;
        if (self is not null && string.Equals(Path.GetFileNameWithoutExtension(self), "pwsh", StringComparison.Ordinal))
        {
            return self;
        }

        return cmdlet.SessionState.PSVariable.GetValue("PSHOME") is string home && File.Exists(Path.Combine(home, "pwsh"))
            ? Path.Combine(home, "pwsh")
            : null;
    }

    /// <summary>PowerShell's current FileSystem location (not the process's directory, which Set-Location does not change).</summary>
    public static string CurrentDirectory(PSCmdlet cmdlet) => cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    /// <summary>
    /// A program argument as Castra should see it: a path (it has a '/') resolved like any PowerShell path (~, relative
    /// to the current location); a bare name kept, so Castra looks it up on PATH.
    /// </summary>
    public static string Program(PSCmdlet cmdlet, string program) =>
        program.Contains('/', StringComparison.Ordinal) ? cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(program) : program;
}

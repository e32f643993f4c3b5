using System.Globalization;
using System.Management.Automation.Host;

namespace Castra.PowerShell.Tests.Support;

/// <summary>
/// A host like a terminal's, for the parts the cmdlets use: it records what PowerShell writes to the screen (the
/// "What if:" lines) and answers prompts (ShouldProcess under -Confirm) from a script of answers.
/// </summary>
public sealed class ScriptedHost : PSHost
{
    private readonly Guid _id = Guid.NewGuid();

    public ScriptedHost(params string[] answers) => Interface = new ScriptedHostUserInterface(answers);

    public ScriptedHostUserInterface Interface { get; }

    public override PSHostUserInterface UI => Interface;

    public override string Name => "Castra.Tests";

    public override Version Version => new(1, 0);

    public override Guid InstanceId => _id;

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override void EnterNestedPrompt() => throw new NotSupportedException();

    public override void ExitNestedPrompt() => throw new NotSupportedException();

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    public override void SetShouldExit(int exitCode)
    {
    }
}

using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace Castra.PowerShell.Tests.Support;

/// <summary>
/// Records every line written to the host and every prompt shown; answers choice prompts with the scripted labels
/// ("Yes", "No", "Yes to All", …) in order, and fails a test that prompts more often than it scripted.
/// </summary>
public sealed class ScriptedHostUserInterface(IEnumerable<string> answers) : PSHostUserInterface
{
    private readonly ConcurrentQueue<string> _answers = new(answers);
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _prompts = new();

    /// <summary>What PowerShell wrote to the screen, one entry per line.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>The message of each choice prompt, in order.</summary>
    public IReadOnlyList<string> Prompts => [.. _prompts];

    public override PSHostRawUserInterface? RawUI => null;

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        _prompts.Enqueue(message);
        if (!_answers.TryDequeue(out var answer))
        {
            throw new InvalidOperationException($"unexpected prompt (no scripted answer left): {caption}: {message}");
        }

        for (var i = 0; i < choices.Count; i++)
        {
            if (string.Equals(choices[i].Label.Replace("&", "", StringComparison.Ordinal), answer, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no choice '{answer}' in [{string.Join(", ", choices.Select(c => c.Label))}]");
    }

    public override void Write(string value) => _lines.Enqueue(value);

    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => _lines.Enqueue(value);

    public override void WriteLine(string value) => _lines.Enqueue(value);

    public override void WriteErrorLine(string value) => _lines.Enqueue(value);

    public override void WriteDebugLine(string message) => _lines.Enqueue(message);

    public override void WriteVerboseLine(string message) => _lines.Enqueue(message);

    public override void WriteWarningLine(string message) => _lines.Enqueue(message);

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
        throw new InvalidOperationException($"unexpected prompt for values: {caption}: {message}");

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw new InvalidOperationException("unexpected credential prompt");

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
        throw new InvalidOperationException("unexpected credential prompt");

    public override string ReadLine() => throw new InvalidOperationException("unexpected ReadLine");

    public override SecureString ReadLineAsSecureString() => throw new InvalidOperationException("unexpected ReadLineAsSecureString");
}

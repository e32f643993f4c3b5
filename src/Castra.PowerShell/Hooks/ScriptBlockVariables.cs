using System.Management.Automation;
using System.Management.Automation.Language;

namespace Castra.PowerShell.Hooks;

/// <summary>
/// What a hook's script block expects from the session that registered it. The hook runs later, in a new pwsh at
/// shutdown, so <c>$using:</c> has nothing to refer to and a variable defined only in the registering session is
/// empty there: the first is refused at registration, the second is warned about (pass values with -ArgumentList).
/// </summary>
internal static class ScriptBlockVariables
{
    /// <summary>The variable's name without a scope qualifier ($script:x is x).</summary>
    private static string Bare(this VariablePath path) =>
        path.UserPath.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 ? path.UserPath[(colon + 1)..] : path.UserPath;

    /// <summary>Variables every pwsh has (automatic and preference variables): never "free".</summary>
    private static readonly HashSet<string> Automatic = new(StringComparer.OrdinalIgnoreCase)
    {
        "_", "PSItem", "args", "input", "true", "false", "null", "this", "Error", "Host", "HOME", "PID", "PWD", "PSHOME",
        "PSVersionTable", "PSScriptRoot", "PSCommandPath", "PSBoundParameters", "MyInvocation", "LASTEXITCODE", "Matches",
        "ExecutionContext", "IsLinux", "IsMacOS", "IsWindows", "IsCoreCLR", "PSCulture", "PSUICulture", "ShellId",
        "StackTrace", "NestedPromptLevel", "PSEdition", "PSCmdlet", "foreach", "switch", "Event", "EventArgs", "Sender",
        "ErrorActionPreference", "WarningPreference", "VerbosePreference", "DebugPreference", "InformationPreference",
        "ProgressPreference", "ConfirmPreference", "WhatIfPreference", "OFS", "PSDefaultParameterValues", "PSNativeCommandUseErrorActionPreference",
        "PSStyle", "MaximumHistoryCount", "FormatEnumerationLimit", "OutputEncoding", "PROFILE", "ErrorView", "PSNativeCommandArgumentPassing",
        "MaximumErrorCount", "PSEmailServer", "PSSessionConfigurationName", "PSSessionApplicationName", "PSSessionOption", "PSModuleAutoLoadingPreference",
        "ConsoleFileName", "EnabledExperimentalFeatures", "SourceArgs", "SourceEventArgs",
    };

    /// <summary>
    /// The <c>$using:</c> expressions of the hook's own block (refused: nothing to refer to at shutdown). Those inside
    /// a script block the hook itself passes on (ForEach-Object -Parallel, Start-ThreadJob, Invoke-Command) refer to
    /// the hook's own variables, and are fine.
    /// </summary>
    public static IReadOnlyList<string> Using(ScriptBlock block) =>
        [.. block.Ast.FindAll(a => a is UsingExpressionAst u && OwnBlock(u) == block.Ast, searchNestedScriptBlocks: true)
            .Select(a => a.Extent.Text).Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>The script block an expression belongs to: the nearest enclosing one.</summary>
    private static Ast? OwnBlock(Ast ast)
    {
        var parent = ast.Parent;
        while (parent is not null and not ScriptBlockAst)
        {
            parent = parent.Parent;
        }

        return parent;
    }

    /// <summary>Common parameters that name a variable the command sets (-OutVariable out, -PipelineVariable p).</summary>
    private static readonly HashSet<string> VariableParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "OutVariable", "ov", "PipelineVariable", "pv", "ErrorVariable", "ev", "WarningVariable", "wv", "InformationVariable", "iv",
    };

    /// <summary>
    /// Variables read but never set inside the block (no assignment, parameter, foreach variable): at shutdown they
    /// are empty, whatever they hold in the registering session.
    /// </summary>
    public static IReadOnlyList<string> Free(ScriptBlock block)
    {
        var ast = block.Ast;
        var defined = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var assignment in ast.FindAll(a => a is AssignmentStatementAst, true).Cast<AssignmentStatementAst>())
        {
            foreach (var target in assignment.Left.FindAll(a => a is VariableExpressionAst, true).Cast<VariableExpressionAst>())
            {
                defined.Add(target.VariablePath.Bare());
            }
        }

        foreach (var parameter in ast.FindAll(a => a is ParameterAst, true).Cast<ParameterAst>())
        {
            defined.Add(parameter.Name.VariablePath.Bare());
        }

        foreach (var loop in ast.FindAll(a => a is ForEachStatementAst, true).Cast<ForEachStatementAst>())
        {
            defined.Add(loop.Variable.VariablePath.Bare());
        }

        // [ref]$x is set by the callee; -OutVariable x, -PipelineVariable x, New-Variable/Set-Variable -Name x set x.
        foreach (var reference in ast.FindAll(a => a is ConvertExpressionAst c && c.Type.TypeName.Name.Equals("ref", StringComparison.OrdinalIgnoreCase), true).Cast<ConvertExpressionAst>())
        {
            if (reference.Child is VariableExpressionAst target)
            {
                defined.Add(target.VariablePath.Bare());
            }
        }

        foreach (var command in ast.FindAll(a => a is CommandAst, true).Cast<CommandAst>())
        {
            var elements = command.CommandElements;
            var setsVariable = command.GetCommandName() is { } name && (name.Equals("New-Variable", StringComparison.OrdinalIgnoreCase) || name.Equals("Set-Variable", StringComparison.OrdinalIgnoreCase));
            for (var i = 0; i < elements.Count; i++)
            {
                if (elements[i] is CommandParameterAst parameter
                    && (VariableParameters.Contains(parameter.ParameterName) || (setsVariable && parameter.ParameterName.Equals("Name", StringComparison.OrdinalIgnoreCase))))
                {
                    if ((parameter.Argument ?? (i + 1 < elements.Count ? elements[i + 1] : null)) is StringConstantExpressionAst named)
                    {
                        defined.Add(named.Value.TrimStart('+'));
                    }
                }
                else if (setsVariable && i == 1 && elements[i] is StringConstantExpressionAst positional)
                {
                    defined.Add(positional.Value);
                }
            }
        }

        return [.. ast.FindAll(a => a is VariableExpressionAst, true).Cast<VariableExpressionAst>()
            .Where(v => !v.VariablePath.IsDriveQualified && v.Parent is not UsingExpressionAst)
            .Select(v => v.VariablePath.Bare())
            .Where(name => !defined.Contains(name) && !Automatic.Contains(name))
            .Distinct(StringComparer.OrdinalIgnoreCase)];
    }
}

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
        "PSStyle", "MaximumHistoryCount", "FormatEnumerationLimit", "OutputEncoding",
    };

    /// <summary>The <c>$using:</c> expressions in the block (refused: nothing to refer to at shutdown).</summary>
    public static IReadOnlyList<string> Using(ScriptBlock block) =>
        [.. block.Ast.FindAll(a => a is UsingExpressionAst, searchNestedScriptBlocks: true).Select(a => a.Extent.Text).Distinct(StringComparer.OrdinalIgnoreCase)];

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

        return [.. ast.FindAll(a => a is VariableExpressionAst, true).Cast<VariableExpressionAst>()
            .Where(v => !v.VariablePath.IsDriveQualified && v.Parent is not UsingExpressionAst)
            .Select(v => v.VariablePath.Bare())
            .Where(name => !defined.Contains(name) && !Automatic.Contains(name))
            .Distinct(StringComparer.OrdinalIgnoreCase)];
    }
}

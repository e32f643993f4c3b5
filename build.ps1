#Requires -Version 7.4
<#
.SYNOPSIS
    Castra's build for machines with PowerShell (build.sh is the equivalent for machines without it).
.PARAMETER Task
    Build: build the solution (Release).  Test: dotnet test over the solution.  Demo: run scripts/demo.sh.
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo')]
    [string] $Task = 'Build',
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

switch ($Task) {
    'Build' { Invoke-Native dotnet @('build', 'Castra.sln', '-c', $Configuration, '-nologo') }
    'Test' {
        Invoke-Native dotnet @('build', 'Castra.sln', '-c', $Configuration, '-nologo')
        Invoke-Native dotnet @('test', 'Castra.sln', '-c', $Configuration, '--no-build', '-nologo')
    }
    'Demo' {
        Invoke-Native dotnet @('build', 'Castra.sln', '-c', $Configuration, '-nologo')
        Invoke-Native bash @('scripts/demo.sh')
    }
}

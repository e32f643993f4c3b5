#Requires -Version 7.4
<#
.SYNOPSIS
    Castra's build for machines with PowerShell (build.sh covers machines without it).
.DESCRIPTION
    Build   : assemble out/Castra/ (Castra.dll, Castra.Core.dll, Castra.psd1 with the version from
              Directory.Build.props, Castra.Format.ps1xml, en-US/), importable with Import-Module ./out/Castra
    Docs    : regenerate en-US/Castra.dll-Help.xml from docs/*.md with platyPS 0.14 (New-ExternalHelp)
    Test    : Build, then dotnet test over the solution and Invoke-Pester ./tests/pester (Pester 5)
    Package : Build, then out/Castra-<version>.zip
    Demo    : the main job (scripts/demo.sh: three real VMs stopped concurrently)
    Bench   : the fleet-shutdown benchmark (docs/performance.md), -BenchArguments passed on to bench/Castra.Bench
              (needs gcc and socat, which build.sh bench installs on Debian)
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Docs', 'Test', 'Package', 'Demo', 'Bench')]
    [string] $Task = 'Build',
    [string] $Configuration = 'Release',
    [string[]] $BenchArguments = @()
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$out = Join-Path $PSScriptRoot 'out/Castra'

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-CastraVersion {
    ([xml](Get-Content -Raw (Join-Path $PSScriptRoot 'Directory.Build.props'))).Project.PropertyGroup.VersionPrefix |
        Where-Object { $_ } | Select-Object -First 1
}

function Invoke-Build {
    Invoke-Native dotnet @('build', 'Castra.sln', '-c', $Configuration, '-nologo')
    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    Invoke-Native dotnet @('publish', 'src/Castra.PowerShell/Castra.PowerShell.csproj', '-c', $Configuration, '-o', $out, '-nologo')
    # Only what the module needs: no PowerShell reference assembly, no symbols.
    Get-ChildItem $out -File | Where-Object { $_.Name -notin 'Castra.dll', 'Castra.Core.dll', 'Castra.deps.json' } | Remove-Item -Force
    $version = Get-CastraVersion
    (Get-Content -Raw 'Castra.psd1') -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" |
        Set-Content -NoNewline (Join-Path $out 'Castra.psd1')
    Copy-Item 'Castra.Format.ps1xml' $out
    Copy-Item -Recurse 'en-US' $out
    Test-ModuleManifest (Join-Path $out 'Castra.psd1') | Out-Null
    Write-Host "Built $out (version $version)"
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Docs' {
        Import-Module platyPS -RequiredVersion 0.14.2 -ErrorAction Stop
        New-ExternalHelp -Path (Get-ChildItem docs -Filter '*-Castra*.md').FullName -OutputPath en-US -Force | Out-Null
        New-ExternalHelp -Path docs/about_Castra.md -OutputPath en-US -Force | Out-Null
    }
    'Test' {
        Invoke-Build
        Invoke-Native dotnet @('test', 'Castra.sln', '-c', $Configuration, '--no-build', '-nologo')
        Import-Module Pester -MinimumVersion 5.0 -ErrorAction Stop
        $result = Invoke-Pester -Path ./tests/pester -PassThru -Output Detailed
        if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester test(s) failed" }
    }
    'Package' {
        Invoke-Build
        $zip = Join-Path $PSScriptRoot "out/Castra-$(Get-CastraVersion).zip"
        Compress-Archive -Path $out -DestinationPath $zip -Force
        Write-Host "Packaged $zip"
    }
    'Demo' {
        Invoke-Native dotnet @('build', 'Castra.sln', '-c', $Configuration, '-nologo')
        Invoke-Native bash @('scripts/demo.sh')
    }
    'Bench' {
        Invoke-Native dotnet (@('run', '-c', $Configuration, '--project', 'bench/Castra.Bench', '--') + $BenchArguments)
    }
}

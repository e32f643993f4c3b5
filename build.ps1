#Requires -Version 7.4
<#
.SYNOPSIS
    Castra's build in PowerShell. ./build.sh installs the pwsh that runs it (.tools/pwsh/pwsh) and calls it for the
    steps below; any pwsh 7.4+ can run it directly too.
.DESCRIPTION
    Build   : assemble out/Castra/ (Castra.dll, Castra.Core.dll, Castra.psd1 with the version from
              Directory.Build.props, Castra.Format.ps1xml, en-US/), importable with Import-Module ./out/Castra,
              and publish the native CLI (Native AOT, needs clang and zlib1g-dev) to out/castra/castra
    Docs    : regenerate en-US/Castra.dll-Help.xml and en-US/about_Castra.help.txt from docs/*.md
              (scripts/MarkdownHelp.psm1); with -Check, write nothing and fail when the committed files are stale
    Test    : Build, the help check, dotnet test over the solution, then the Pester suite
    Pester  : the Pester suite (tests/pester) with Pester from .tools/modules (installed on first use); prints
              "Pester: N passed, N failed, N skipped" and fails on any failed, skipped or not-run test
    Package : Build, then out/Castra.<version>.nupkg (Compress-PSResource), installable with PSResourceGet
    Shell   : Build, then a pwsh with the module imported from out/Castra
    Demo    : Build, then the main job (scripts/demo.sh: three real VMs stopped concurrently)
    Bench   : the fleet-shutdown benchmark (docs/performance.md), -BenchArguments passed on to bench/Castra.Bench
              (needs gcc and socat, which build.sh bench installs on Debian)
    -NoBuild skips the Build step of Test, Pester, Package, Shell, Demo and Bench (build.sh passes it after building once).
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Docs', 'Test', 'Pester', 'Package', 'Shell', 'Demo', 'Bench')]
    [string] $Task = 'Build',
    [string] $Configuration = 'Release',
    [switch] $Check,
    [switch] $NoBuild,
    [string[]] $BenchArguments = @()
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$out = Join-Path $PSScriptRoot 'out/Castra'
$tools = Join-Path $PSScriptRoot '.tools'

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-CastraVersion {
    ([xml](Get-Content -Raw (Join-Path $PSScriptRoot 'Directory.Build.props'))).Project.PropertyGroup.VersionPrefix |
        Where-Object { $_ } | Select-Object -First 1
}

function Get-PesterVersion {
    # One place for it: tools/Pester.csproj, which downloads it.
    ([xml](Get-Content -Raw (Join-Path $PSScriptRoot 'tools/Pester.csproj'))).Project.PropertyGroup.PesterVersion |
        Where-Object { $_ } | Select-Object -First 1
}

function Invoke-Build {
    Invoke-Native dotnet @('build', 'Castra.sln', '-c', $Configuration, '-nologo', '-v', 'q')
    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    Invoke-Native dotnet @('publish', 'src/Castra.PowerShell/Castra.PowerShell.csproj', '-c', $Configuration, '-o', $out, '-nologo', '-v', 'q')
    # Only what the module needs: no PowerShell reference assembly, no symbols.
    Get-ChildItem $out -File | Where-Object { $_.Name -notin 'Castra.dll', 'Castra.Core.dll', 'Castra.deps.json' } | Remove-Item -Force
    $version = Get-CastraVersion
    (Get-Content -Raw 'Castra.psd1') -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" |
        Set-Content -NoNewline (Join-Path $out 'Castra.psd1')
    Copy-Item 'Castra.Format.ps1xml' $out
    Copy-Item -Recurse 'en-US' $out
    Test-ModuleManifest (Join-Path $out 'Castra.psd1') | Out-Null
    Write-Host "Built $out (version $version)"
    Invoke-CliPublish
}

# out/castra/castra: the CLI compiled ahead of time (Native AOT), the binary the tests, the demo and the benchmark run.
function Invoke-CliPublish {
    $cli = Join-Path $PSScriptRoot 'out/castra'
    $rid = switch ([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture) {
        'X64' { 'linux-x64' }
        'Arm64' { 'linux-arm64' }
        default { throw "no Native AOT runtime identifier for $_" }
    }
    if (Test-Path $cli) { Remove-Item -Recurse -Force $cli }
    Invoke-Native dotnet @('publish', 'src/Castra.Cli/Castra.Cli.csproj', '-c', $Configuration, '-r', $rid, '-o', $cli, '-nologo', '-v', 'q')
    Get-ChildItem $cli -Filter *.pdb | Remove-Item -Force
    Write-Host "Built $cli/castra (Native AOT, $rid)"
}

function Assert-Built {
    if (-not (Test-Path (Join-Path $out 'Castra.psd1'))) { throw "$out is not built: run ./build.ps1 -Task Build (or ./build.sh build) first." }
}

function Invoke-Docs([switch] $CheckOnly) {
    Import-Module (Join-Path $PSScriptRoot 'scripts/MarkdownHelp.psm1') -Force
    Update-MarkdownHelp -DocsPath (Join-Path $PSScriptRoot 'docs') -OutputPath (Join-Path $PSScriptRoot 'en-US') -Check:$CheckOnly
    if ($CheckOnly) { Write-Host 'en-US/ is what docs/ generates.' }
}

function Invoke-PesterSuite {
    $version = Get-PesterVersion
    $modules = Join-Path $tools 'modules'
    if (-not (Test-Path (Join-Path $modules "Pester/$version/Pester.psd1"))) {
        Invoke-Native dotnet @('msbuild', 'tools/Pester.csproj', '-restore', '-t:InstallPester', '-v:q', '-nologo')
    }
    # This process and the pwsh processes the tests start find Pester (and nothing else new) there.
    $env:PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath
    Import-Module Pester -RequiredVersion $version

    $configuration = New-PesterConfiguration
    $configuration.Run.Path = Join-Path $PSScriptRoot 'tests/pester'
    $configuration.Run.PassThru = $true
    $configuration.Output.Verbosity = 'Normal'
    $result = Invoke-Pester -Configuration $configuration

    # One line for build.sh to add to the xUnit counts; skipped or not-run tests count as failures of the suite.
    Write-Host ('Pester: {0} passed, {1} failed, {2} skipped' -f $result.PassedCount, $result.FailedCount, ($result.SkippedCount + $result.NotRunCount))
    $problems = @(
        if ($result.FailedCount) { "$($result.FailedCount) failed" }
        if ($result.FailedBlocksCount) { "$($result.FailedBlocksCount) block(s) failed in BeforeAll/AfterAll" }
        if ($result.FailedContainersCount) { "$($result.FailedContainersCount) file(s) failed to run" }
        if ($result.SkippedCount -or $result.NotRunCount) { "$($result.SkippedCount + $result.NotRunCount) skipped or not run" }
        if ($result.TotalCount -eq 0) { 'no test ran' }
    )
    if ($problems) { throw "Pester: $($problems -join ', ')" }
}

function Invoke-Package {
    Assert-Built
    $destination = Join-Path $PSScriptRoot 'out'
    $package = Join-Path $destination "Castra.$(Get-CastraVersion).nupkg"
    if (Test-Path $package) { Remove-Item -Force $package }
    Compress-PSResource -Path $out -DestinationPath $destination
    if (-not (Test-Path $package)) { throw "Compress-PSResource did not write $package" }
    Write-Host "Packaged $package"
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Docs' { Invoke-Docs -CheckOnly:$Check }
    'Test' {
        if (-not $NoBuild) { Invoke-Build }
        Invoke-Docs -CheckOnly
        Invoke-Native dotnet @('test', 'Castra.sln', '-c', $Configuration, '--no-build', '-nologo')
        Invoke-PesterSuite
    }
    'Pester' {
        if (-not $NoBuild) { Invoke-Build }
        Invoke-PesterSuite
    }
    'Package' {
        if (-not $NoBuild) { Invoke-Build }
        Invoke-Package
    }
    'Shell' {
        if (-not $NoBuild) { Invoke-Build }
        & ([Environment]::ProcessPath) -NoExit -Command "Import-Module '$out'"
    }
    'Demo' {
        if (-not $NoBuild) { Invoke-Build }
        Invoke-Native bash @('scripts/demo.sh')
    }
    'Bench' {
        if (-not $NoBuild) { Invoke-Build }
        Invoke-Native dotnet (@('run', '-c', $Configuration, '--no-build', '--project', 'bench/Castra.Bench', '--') + $BenchArguments)
    }
}

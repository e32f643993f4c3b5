#Requires -Version 7.4
# The module as a user installs it: a PSResourceGet package published to a repository, installed, imported by name in
# a fresh pwsh. Every pwsh here runs with its own HOME (and XDG folders) under the test drive, so repository
# registrations and installed modules land there and never in the user's profile.

Describe 'The Castra package' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot ../..)).ProviderPath
        $ModuleDir = Join-Path $RepoRoot 'out/Castra'
        if (-not (Test-Path -LiteralPath (Join-Path $ModuleDir 'Castra.psd1'))) {
            throw "The module is not built: run ./build.ps1 -Task Build first ($ModuleDir is missing)."
        }
        $Version = (Import-PowerShellDataFile (Join-Path $ModuleDir 'Castra.psd1')).ModuleVersion
        $FakeQemu = Build-FakeQemu -OutputDirectory (Join-Path $TestDrive 'bin')
        $Pwsh = Get-PwshPath

        function Invoke-IsolatedPwsh {
            <#
            Runs a script in a fresh pwsh whose HOME is UserHome, without the caller's PSModulePath (pwsh builds its own
            from HOME), with no terminal input. Returns its standard output lines; throws on a non-zero exit.
            #>
            param([Parameter(Mandatory)][string] $UserHome, [Parameter(Mandatory)][string] $Script)

            $psi = [System.Diagnostics.ProcessStartInfo]::new($Pwsh)
            foreach ($argument in '-NoProfile', '-NonInteractive', '-Command', $Script) { $psi.ArgumentList.Add($argument) }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.RedirectStandardInput = $true
            $psi.Environment['HOME'] = $UserHome
            foreach ($xdg in @{ XDG_DATA_HOME = '.local/share'; XDG_CONFIG_HOME = '.config'; XDG_CACHE_HOME = '.cache' }.GetEnumerator()) {
                # They must exist: .NET gives an empty LocalApplicationData for a missing folder, and PSResourceGet
                # then keeps its repository list in the current directory.
                $psi.Environment[$xdg.Key] = (New-Item -ItemType Directory -Path (Join-Path $UserHome $xdg.Value) -Force).FullName
            }
            $null = $psi.Environment.Remove('PSModulePath')
            $process = [System.Diagnostics.Process]::Start($psi)
            $process.StandardInput.Close()
            $stderr = $process.StandardError.ReadToEndAsync()
            $stdout = $process.StandardOutput.ReadToEnd()
            $process.WaitForExit()
            if ($process.ExitCode -ne 0) { throw "pwsh exited $($process.ExitCode): $stdout $($stderr.Result)" }
            $stdout -split "`n" | Where-Object { $_.Trim() }
        }

        function Test-StopByName {
            <# In a fresh pwsh with the given HOME: import Castra by name, stop VM web under Root, print the events as JSON. #>
            param([string] $UserHome, [string] $Root)

            $lines = Invoke-IsolatedPwsh -UserHome $UserHome -Script "
                `$ErrorActionPreference = 'Stop'
                Import-Module Castra
                (Get-Module Castra).ModuleBase
                Stop-CastraVm web -StateRoot '$Root' | ConvertTo-Json -Compress"
            [pscustomobject] @{ ModuleBase = $lines[0]; Events = @($lines[1] | ConvertFrom-Json) }
        }
    }

    AfterAll {
        Stop-FakeQemu -FakeQemu $FakeQemu
    }

    BeforeEach {
        $root = New-CastraTestRoot
        $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web
        $userHome = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $userHome
    }

    AfterEach {
        Remove-CastraTestRoot -Root $root
    }

    It 'publishes to a local repository, installs with Install-PSResource, imports by name in a fresh pwsh and stops a VM' {
        $repository = Join-Path $userHome 'repository'
        $null = New-Item -ItemType Directory -Path $repository
        $null = Invoke-IsolatedPwsh -UserHome $userHome -Script "
            `$ErrorActionPreference = 'Stop'
            Register-PSResourceRepository -Name CastraLocal -Uri '$repository' -Trusted
            Publish-PSResource -Path '$ModuleDir' -Repository CastraLocal
            Install-PSResource -Name Castra -Repository CastraLocal -Scope CurrentUser -TrustRepository -Quiet"

        Test-Path -LiteralPath (Join-Path $repository "Castra.$Version.nupkg") | Should -BeTrue
        $result = Test-StopByName -UserHome $userHome -Root $root

        $result.ModuleBase | Should -BeLike "$userHome/*/Castra/$Version"
        $result.Events.Type | Should -Be @('ShutdownRequested', 'CooperativeAttempted', 'CooperativeSucceeded', 'ShutdownComplete')
        $result.Events[-1].Outcome | Should -Be 'Graceful'
        Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit'
    }

    It 'build.ps1 -Task Package makes out/Castra.<version>.nupkg, which Save-PSResource installs whole into a folder on PSModulePath' {
        $null = Invoke-IsolatedPwsh -UserHome $userHome -Script "& '$RepoRoot/build.ps1' -Task Package -NoBuild"
        $package = Join-Path $RepoRoot "out/Castra.$Version.nupkg"
        Test-Path -LiteralPath $package | Should -BeTrue

        $repository = Join-Path $userHome 'feed'
        $null = New-Item -ItemType Directory -Path $repository
        Copy-Item -LiteralPath $package -Destination $repository
        # Save-PSResource into the first folder of a pwsh's own PSModulePath: the user module folder of this HOME.
        $modules = Join-Path $userHome '.local/share/powershell/Modules'
        $null = New-Item -ItemType Directory -Path $modules
        $null = Invoke-IsolatedPwsh -UserHome $userHome -Script "
            `$ErrorActionPreference = 'Stop'
            Register-PSResourceRepository -Name CastraFeed -Uri '$repository' -Trusted
            Save-PSResource -Name Castra -Repository CastraFeed -Path '$modules' -TrustRepository -Quiet"

        $installed = Join-Path $modules "Castra/$Version"
        $expected = @(Get-ChildItem -LiteralPath $ModuleDir -Recurse -File | ForEach-Object { [System.IO.Path]::GetRelativePath($ModuleDir, $_.FullName) } | Sort-Object)
        $actual = @(Get-ChildItem -LiteralPath $installed -Recurse -File | ForEach-Object { [System.IO.Path]::GetRelativePath($installed, $_.FullName) } |
                Where-Object { $_ -notlike '*.nuspec' -and $_ -ne 'PSGetModuleInfo.xml' } | Sort-Object)
        $actual | Should -Be $expected

        $result = Test-StopByName -UserHome $userHome -Root $root
        $result.ModuleBase | Should -Be $installed
        $result.Events[-1].Outcome | Should -Be 'Graceful'
    }
}

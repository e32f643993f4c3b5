#Requires -Version 7.4
# The Castra module as built into out/Castra (./build.ps1 -Task Build): manifest, exports, help, verbs, completion.

Describe 'Castra module' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $ModulePath = Join-Path $PSScriptRoot ../../out/Castra/Castra.psd1
        if (-not (Test-Path -LiteralPath $ModulePath)) {
            throw "The module is not built: run ./build.ps1 -Task Build first ($ModulePath is missing)."
        }
        Import-Module $ModulePath -Force
        $ExpectedCmdlets = @(
            'Get-CastraCleanupHook', 'Get-CastraShutdownStatus', 'Get-CastraVm', 'Get-CastraVmSession', 'Register-CastraCleanupHook',
            'Register-CastraHostShutdown', 'Restart-CastraVm', 'Set-CastraVm', 'Start-CastraVm', 'Start-CastraVmSession', 'Stop-CastraVm',
            'Unregister-CastraCleanupHook', 'Unregister-CastraHostShutdown', 'Wait-CastraVm'
        )
    }

    Context 'Import and exports' {
        It 'imports from out/Castra' {
            $module = @(Get-Module -Name Castra)
            $module | Should -HaveCount 1
            $expectedBase = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot ../../out/Castra))
            [System.IO.Path]::GetFullPath($module[0].ModuleBase).TrimEnd('/') | Should -Be $expectedBase.TrimEnd('/')
            $module[0].ExportedCmdlets.Keys | Should -Contain 'Stop-CastraVm'
        }

        It 'exports exactly its eleven cmdlets' {
            $commands = @(Get-Command -Module Castra | Sort-Object -Property Name)
            $commands.Name | Should -Be $ExpectedCmdlets
            foreach ($command in $commands) {
                $command.CommandType | Should -Be 'Cmdlet'
            }
        }

        It 'exports no functions, aliases or variables' {
            $module = Get-Module -Name Castra
            $module.ExportedFunctions.Keys | Should -BeNullOrEmpty
            $module.ExportedAliases.Keys | Should -BeNullOrEmpty
            $module.ExportedVariables.Keys | Should -BeNullOrEmpty
        }
    }

    Context '<CommandName>' -ForEach @(
        @{ CommandName = 'Get-CastraCleanupHook' }
        @{ CommandName = 'Get-CastraShutdownStatus' }
        @{ CommandName = 'Get-CastraVm' }
        @{ CommandName = 'Get-CastraVmSession' }
        @{ CommandName = 'Register-CastraCleanupHook' }
        @{ CommandName = 'Restart-CastraVm' }
        @{ CommandName = 'Set-CastraVm' }
        @{ CommandName = 'Start-CastraVm' }
        @{ CommandName = 'Start-CastraVmSession' }
        @{ CommandName = 'Stop-CastraVm' }
        @{ CommandName = 'Unregister-CastraCleanupHook' }
        @{ CommandName = 'Register-CastraHostShutdown' }
        @{ CommandName = 'Unregister-CastraHostShutdown' }
        @{ CommandName = 'Wait-CastraVm' }
    ) {
        It 'uses an approved verb' {
            $command = Get-Command -Name $CommandName -Module Castra
            $command.Verb | Should -BeIn @((Get-Verb).Verb)
        }

        It 'has help with a synopsis' {
            $help = Get-Help -Name $CommandName -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            # Without a help file, Get-Help makes the synopsis up from the syntax ("Stop-CastraVm [-Name] <string[]> ...").
            $help.Synopsis.Trim() | Should -Not -BeLike "$CommandName*"
        }

        It 'has help with at least two examples' {
            $help = Get-Help -Name $CommandName -Full
            $examples = @($help.Examples.Example)
            $examples.Count | Should -BeGreaterOrEqual 2
            foreach ($example in $examples) {
                $example.Code | Should -Not -BeNullOrEmpty
            }
        }
    }

    Context 'ShouldProcess' {
        It 'Stop-CastraVm supports ShouldProcess (-WhatIf and -Confirm)' {
            $command = Get-Command -Name Stop-CastraVm -Module Castra
            $command.Parameters.Keys | Should -Contain 'WhatIf'
            $command.Parameters.Keys | Should -Contain 'Confirm'
            $attribute = $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) | Select-Object -First 1
            $attribute.SupportsShouldProcess | Should -BeTrue
        }

        It '<_> supports ShouldProcess (-WhatIf and -Confirm)' -ForEach @('Set-CastraVm', 'Start-CastraVm', 'Restart-CastraVm', 'Register-CastraCleanupHook', 'Unregister-CastraCleanupHook', 'Start-CastraVmSession', 'Register-CastraHostShutdown', 'Unregister-CastraHostShutdown') {
            $command = Get-Command -Name $_ -Module Castra
            $command.Parameters.Keys | Should -Contain 'WhatIf'
            $command.Parameters.Keys | Should -Contain 'Confirm'
        }

        It '<_> changes nothing and has no -WhatIf' -ForEach @('Get-CastraVm', 'Get-CastraShutdownStatus', 'Get-CastraCleanupHook', 'Get-CastraVmSession', 'Wait-CastraVm') {
            $command = Get-Command -Name $_ -Module Castra
            $command.Parameters.Keys | Should -Not -Contain 'WhatIf'
        }
    }

    Context 'Tab completion of VM names' {
        BeforeAll {
            $root = New-CastraTestRoot
            $null = New-CastraVmDirectory -Root $root -Name 'web'
            $null = New-CastraVmDirectory -Root $root -Name 'db'
        }

        AfterAll {
            Remove-CastraTestRoot -Root $root
        }

        It 'completes -Name from the state root given by -StateRoot on the same line' {
            $line = "Stop-CastraVm -StateRoot '$root' -Name we"
            $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $texts = @($completion.CompletionMatches | ForEach-Object { $_.CompletionText })
            $texts | Should -Contain 'web'
            $texts | Should -Not -Contain 'db'
        }

        It 'completes -VmName of the hook and session cmdlets' {
            foreach ($line in "Register-CastraCleanupHook -StateRoot '$root' -VmName we", "Get-CastraVmSession -StateRoot '$root' -VmName we", "Start-CastraVmSession -StateRoot '$root' -VmName we") {
                $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $texts = @($completion.CompletionMatches | ForEach-Object { $_.CompletionText })
                $texts | Should -Contain 'web' -Because $line
                $texts | Should -Not -Contain 'db' -Because $line
            }
        }

        It 'completes the positional name of Get-CastraVm too' {
            $line = "Get-CastraVm -StateRoot '$root' d"
            $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $texts = @($completion.CompletionMatches | ForEach-Object { $_.CompletionText })
            $texts | Should -Contain 'db'
            $texts | Should -Not -Contain 'web'
        }
    }
}

#Requires -Version 7.4
# Cleanup hooks: Register-, Get- and Unregister-CastraCleanupHook against hooks.json, and the hooks running during
# Stop-CastraVm against fake QEMU processes (tests/fixtures/fake-qemu): events, environment, warnings,
# -HookErrorAction, -Force, -SaveState, -WhatIf and -AsJob. Contract: docs/hooks.md.

Describe 'Cleanup hooks' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $ModulePath = Join-Path $PSScriptRoot ../../out/Castra/Castra.psd1
        Import-Module $ModulePath -Force
        $FakeQemu = Build-FakeQemu -OutputDirectory (Join-Path $TestDrive 'bin')
        $ProgressPreference = 'SilentlyContinue'
    }

    AfterAll {
        Stop-CastraTestJob
        Stop-FakeQemu -FakeQemu $FakeQemu
    }

    BeforeEach {
        $root = New-CastraTestRoot
    }

    AfterEach {
        Stop-CastraTestJob
        Remove-CastraTestRoot -Root $root
    }

    Context 'Registration' {
        It 'registers hooks, gets them in run order, and unregisters them through the pipeline' {
            Register-CastraCleanupHook -Name flush -VmName web -ScriptBlock { 'flushing' } -StateRoot $root
            $notify = Register-CastraCleanupHook -Name notify -Stage PostStop -FilePath true -ArgumentList 'a', 'b c' -Priority 200 -Timeout 2.5 -StateRoot $root -PassThru

            $notify.PSTypeNames | Should -Contain 'Castra.Hooks.CleanupHook'
            $notify.Kind | Should -Be 'Executable'
            [System.IO.Path]::IsPathRooted($notify.Executable) | Should -BeTrue
            Split-Path -Leaf $notify.Executable | Should -Be 'true'
            $notify.Arguments | Should -Be @('a', 'b c')
            $notify.VmName | Should -Be '*'
            $notify.Stage | Should -Be 'PostStop'
            $notify.Priority | Should -Be 200
            $notify.TimeoutMs | Should -Be 2500
            $notify.StateRoot | Should -Be $root
            $notify.WorkingDirectory | Should -Be (Get-Location -PSProvider FileSystem).ProviderPath

            $all = @(Get-CastraCleanupHook -StateRoot $root)
            $all | Should -HaveCount 2
            $all.Name | Should -Be @('flush', 'notify')
            $all[0].Kind | Should -Be 'ScriptBlock'
            $all[0].VmName | Should -Be 'web'
            $all[0].Stage | Should -Be 'PreStop'
            $all[0].Priority | Should -Be 100
            $all[0].TimeoutMs | Should -Be 5000
            $all[0].ScriptBlock.Trim() | Should -Be "'flushing'"
            $all[0].Executable | Should -Not -BeNullOrEmpty

            @(Get-CastraCleanupHook 'fl*' -StateRoot $root).Name | Should -Be @('flush')
            @(Get-CastraCleanupHook -Stage PostStop -StateRoot $root).Name | Should -Be @('notify')
            @(Get-CastraCleanupHook -VmName web -StateRoot $root).Name | Should -Be @('flush')
            @(Get-CastraCleanupHook -VmName '`*' -StateRoot $root).Name | Should -Be @('notify')
            @(Get-CastraCleanupHook 'nothing*' -StateRoot $root) | Should -HaveCount 0

            # No -StateRoot on Unregister: each piped hook is removed from the state root it came from.
            $removed = @(Get-CastraCleanupHook -StateRoot $root | Unregister-CastraCleanupHook -PassThru -ErrorAction Stop)

            $removed.Name | Should -Be @('flush', 'notify')
            @(Get-CastraCleanupHook -StateRoot $root) | Should -HaveCount 0
        }

        It 'converts a CleanupHook to flat JSON with string Stage and Kind' {
            $hook = Register-CastraCleanupHook -Name archive -Stage PostStop -ScriptBlock { 'x' } -StateRoot $root -PassThru

            $json = $hook | ConvertTo-Json
            $json | Should -Match '"Stage":\s*"PostStop"'
            $json | Should -Match '"Kind":\s*"ScriptBlock"'
            $json | Should -Match '"TimeoutMs":\s*5000\b'
            $json | Should -Match '"RegisteredAt":\s*"\d{4}-\d{2}-\d{2}T'

            $parsed = $json | ConvertFrom-Json
            $parsed.Name | Should -BeExactly 'archive'
            $parsed.Stage | Should -BeOfType [string]
            $parsed.Stage | Should -BeExactly 'PostStop'
            $parsed.Kind | Should -BeExactly 'ScriptBlock'
        }

        It 'refuses a second hook with the same name and scope (CastraHookExists); -Force replaces it' {
            Register-CastraCleanupHook flush { 'one' } -StateRoot $root

            { Register-CastraCleanupHook flush { 'two' } -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'CastraHookExists*'
            Register-CastraCleanupHook flush { 'two' } -StateRoot $root -ErrorAction SilentlyContinue -ErrorVariable duplicate
            $duplicate | Should -HaveCount 1
            $duplicate[0].FullyQualifiedErrorId | Should -BeLike 'CastraHookExists,*'
            $duplicate[0].TargetObject | Should -Be 'flush'
            $duplicate[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            (Get-CastraCleanupHook flush -StateRoot $root).ScriptBlock.Trim() | Should -Be "'one'"

            Register-CastraCleanupHook flush { 'two' } -Timeout 7 -StateRoot $root -Force

            $hooks = @(Get-CastraCleanupHook -StateRoot $root)
            $hooks | Should -HaveCount 1
            $hooks[0].ScriptBlock.Trim() | Should -Be "'two'"
            $hooks[0].TimeoutMs | Should -Be 7000
        }

        It 'allows the same name for one VM and for every VM, and needs -VmName to unregister one of them' {
            Register-CastraCleanupHook notify -FilePath true -StateRoot $root
            Register-CastraCleanupHook notify -VmName web -FilePath true -StateRoot $root

            { Unregister-CastraCleanupHook notify -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'CastraHookAmbiguous*'
            $removed = Unregister-CastraCleanupHook notify -VmName web -StateRoot $root -PassThru
            $removed.VmName | Should -Be 'web'
            @(Get-CastraCleanupHook -StateRoot $root).VmName | Should -Be @('*')

            Unregister-CastraCleanupHook notify -StateRoot $root
            { Unregister-CastraCleanupHook notify -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'CastraHookNotFound*'
            { Get-CastraCleanupHook notify -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'CastraHookNotFound*'
        }

        It 'rejects reserved priorities at parameter binding and reserved names with CastraInvalidHook' {
            { Register-CastraCleanupHook flush { 'x' } -Priority 10 -StateRoot $root } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError*' -ExceptionType ([System.Management.Automation.ParameterBindingException])
            { Register-CastraCleanupHook flush { 'x' } -Priority 1001 -StateRoot $root } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError*' -ExceptionType ([System.Management.Automation.ParameterBindingException])
            { Register-CastraCleanupHook 'castra.mine' { 'x' } -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'CastraInvalidHook*'
            { Register-CastraCleanupHook missing -FilePath ./no/such/program -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'CastraHookExecutableNotFound*'
            @(Get-CastraCleanupHook -StateRoot $root) | Should -HaveCount 0
        }

        It 'registers nothing with -WhatIf' {
            Register-CastraCleanupHook flush { 'x' } -StateRoot $root -WhatIf
            Register-CastraCleanupHook flush { 'x' } -StateRoot $root
            Unregister-CastraCleanupHook flush -StateRoot $root -WhatIf

            @(Get-CastraCleanupHook -StateRoot $root).Name | Should -Be @('flush')
        }

        It 'tab-completes registered hook names' {
            Register-CastraCleanupHook flush-db { 'x' } -StateRoot $root
            Register-CastraCleanupHook notify { 'x' } -StateRoot $root

            foreach ($line in "Unregister-CastraCleanupHook -StateRoot '$root' -Name fl", "Get-CastraCleanupHook -StateRoot '$root' fl") {
                $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $texts = @($completion.CompletionMatches | ForEach-Object { $_.CompletionText })
                $texts | Should -Contain 'flush-db' -Because $line
                $texts | Should -Not -Contain 'notify' -Because $line
            }
        }
    }

    Context 'Hooks during Stop-CastraVm' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
        }

        It 'runs a script block hook in a fresh pwsh with the CASTRA_* environment, between ShutdownRequested and the cooperative step' {
            # $root exists in this session only: the hook proves it runs without the registering session's variables.
            Register-CastraCleanupHook -Name record -VmName web -Timeout 60 -StateRoot $root -ScriptBlock {
                $out = Join-Path $env:CASTRA_STATE_DIR 'hook-ran.txt'
                Set-Content -LiteralPath $out -Value "$env:CASTRA_VM_NAME|$env:CASTRA_STAGE|$env:CASTRA_HOOK_NAME|$($null -eq $root)"
            }

            $events = @(Stop-CastraVm web -StateRoot $root)

            $events.Type | Should -Be @('ShutdownRequested', 'HookStarted', 'HookCompleted', 'CooperativeAttempted', 'CooperativeSucceeded', 'ShutdownComplete')
            $events.Sequence | Should -Be @(1..6)
            $events[1].HookName | Should -Be 'record'
            $events[1].Stage | Should -Be 'PreStop'
            $events[1].Priority | Should -Be 100
            $events[1].TimeoutMs | Should -Be 60000
            $events[2].HookName | Should -Be 'record'
            $events[2].Status | Should -Be 'Succeeded'
            $events[2].ExitCode | Should -Be 0
            $events[2].LogPath | Should -BeLike "$root/vms/web/hooks/*"
            $events[-1].Outcome | Should -Be 'Graceful'
            $events[-1].HooksSucceeded | Should -Be 1
            $events[-1].HooksFailed | Should -Be 0
            $events[-1].HooksTimedOut | Should -Be 0

            $written = Join-Path $root 'vms/web/hook-ran.txt'
            Test-Path -LiteralPath $written | Should -BeTrue
            (Get-Content -LiteralPath $written -Raw).Trim() | Should -Be 'web|PreStop|record|True'
            Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit'
        }

        It 'converts the hook events to JSON with string Stage and Status' {
            Register-CastraCleanupHook -Name ok -FilePath true -StateRoot $root

            $json = @(Stop-CastraVm web -StateRoot $root | Where-Object Type -like 'Hook*') | ConvertTo-Json

            $json | Should -Match '"Type":\s*"HookStarted"'
            $json | Should -Match '"Type":\s*"HookCompleted"'
            $json | Should -Match '"Stage":\s*"PreStop"'
            $json | Should -Match '"Status":\s*"Succeeded"'
            $parsed = @($json | ConvertFrom-Json)
            $parsed | Should -HaveCount 2
            $parsed[1].Status | Should -BeOfType [string]
            $parsed[1].DurationMs | Should -BeGreaterOrEqual 0
        }

        It 'shows the hooks of the run in Get-CastraShutdownStatus' {
            Register-CastraCleanupHook -Name ok -FilePath true -StateRoot $root
            Register-CastraCleanupHook -Name after -Stage PostStop -FilePath true -StateRoot $root

            $null = Stop-CastraVm web -StateRoot $root
            $status = Get-CastraShutdownStatus web -StateRoot $root

            $status.State | Should -Be 'Complete'
            $status.HooksTotal | Should -Be 2
            $status.HooksCompleted | Should -Be 2
            $status.RunningHooks | Should -BeNullOrEmpty
            ($status | Format-List | Out-String) | Should -Match 'HooksCompleted\s*:\s*2'
        }

        It 'warns about a failing hook, says with -Verbose which hooks the run found, and still stops the VM (HookErrorAction Continue)' {
            Register-CastraCleanupHook -Name fails -VmName web -FilePath false -StateRoot $root

            $all = @(Stop-CastraVm web -StateRoot $root -Verbose -WarningVariable hookWarnings -WarningAction SilentlyContinue 4>&1)

            $events = @($all | Where-Object { $_.PSObject.TypeNames -contains 'Castra.Events.ShutdownEvent' })
            $completed = @($events | Where-Object Type -eq 'HookCompleted')
            $completed | Should -HaveCount 1
            $completed[0].Status | Should -Be 'Failed'
            $completed[0].ExitCode | Should -Be 1
            $events.Type | Should -Contain 'CooperativeSucceeded'
            $events[-1].Outcome | Should -Be 'Graceful'
            $events[-1].HooksFailed | Should -Be 1

            (@($hookWarnings | ForEach-Object { $_.Message }) -join "`n") | Should -Match 'PreStop hook fails failed'
            $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object { $_.Message })
            ($verbose -join "`n") | Should -Match '\[SHD\] web: 1 PreStop hook and 0 PostStop hooks to run \(fails \(PreStop'
            Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit'
        }

        It 'aborts before the guest is asked when a PreStop hook fails under -HookErrorAction Stop' {
            Register-CastraCleanupHook -Name fails -VmName web -FilePath false -StateRoot $root

            $events = @(Stop-CastraVm web -StateRoot $root -HookErrorAction Stop -ErrorAction SilentlyContinue -ErrorVariable stopErrors -WarningAction SilentlyContinue)

            $events.Type | Should -Not -Contain 'CooperativeAttempted'
            $events[-1].Type | Should -Be 'ShutdownComplete'
            $events[-1].Outcome | Should -Be 'Failed'
            $hookErrors = @($stopErrors | Where-Object { $_.FullyQualifiedErrorId -like 'CastraHookFailed*' })
            $hookErrors | Should -Not -BeNullOrEmpty
            $hookErrors[0].TargetObject | Should -Be 'web'
            Test-ProcessAlive -Id $webPid | Should -BeTrue
            Get-FakeRecord -Root $root -Name web | Should -Not -Contain 'cmd:system_powerdown'
            (Get-CastraVm web -StateRoot $root).State | Should -Be 'Running'
        }

        It 'passes -HookErrorAction to an -AsJob run too' {
            Register-CastraCleanupHook -Name fails -VmName web -FilePath false -StateRoot $root

            $job = Stop-CastraVm web -StateRoot $root -HookErrorAction Stop -AsJob
            $null = Wait-Job -Job $job -Timeout 60
            $events = @(Receive-Job -Job $job -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
            Remove-Job -Job $job -Force

            $events[-1].Type | Should -Be 'ShutdownComplete'
            $events[-1].Outcome | Should -Be 'Failed'
            $events.Type | Should -Not -Contain 'CooperativeAttempted'
            Test-ProcessAlive -Id $webPid | Should -BeTrue
        }

        It 'skips PreStop hooks with -TurnOff but runs PostStop hooks' {
            Register-CastraCleanupHook -Name before -FilePath true -StateRoot $root
            Register-CastraCleanupHook -Name after -Stage PostStop -FilePath true -StateRoot $root

            $events = @(Stop-CastraVm web -StateRoot $root -TurnOff -Force)

            @($events | Where-Object Type -eq 'HookStarted' | ForEach-Object { $_.HookName }) | Should -Be @('after')
            $started = [array]::IndexOf($events.Type, 'HookStarted')
            $started | Should -BeGreaterThan ([array]::IndexOf($events.Type, 'Escalation'))
            $events[-1].HooksSucceeded | Should -Be 1
        }

        It 'writes a snapshot with -SaveState and names it in ShutdownComplete' {
            $events = @(Stop-CastraVm web -StateRoot $root -SaveState)

            $path = $events[-1].SaveStatePath
            $path | Should -Not -BeNullOrEmpty
            $path | Should -BeLike "$root/vms/web/*"
            Test-Path -LiteralPath $path | Should -BeTrue
            (Get-Content -LiteralPath $path -Raw | ConvertFrom-Json).VmName | Should -Be 'web'
        }

        It 'lists the hooks a shutdown would run under -WhatIf' {
            Register-CastraCleanupHook -Name flush-db -VmName web -Priority 50 -FilePath true -StateRoot $root

            # What-if text goes to the host, not to a stream: capture it from a child pwsh's standard output.
            $pwsh = Get-PwshPath
            $command = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; " +
                "Import-Module '$ModulePath'; Stop-CastraVm web -StateRoot '$root' -WhatIf; 'CHILD-DONE'"
            $lines = @(& $pwsh -NoLogo -NoProfile -NonInteractive -Command $command 2>&1 | ForEach-Object { "$_" })
            $text = ($lines -join ' ') -replace '\s+', ' '

            $text | Should -Match 'CHILD-DONE'
            $text | Should -Match 'Hooks: flush-db \(PreStop, priority 50'
            Test-ProcessAlive -Id $webPid | Should -BeTrue
        }
    }
}

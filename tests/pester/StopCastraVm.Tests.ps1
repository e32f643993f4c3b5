#Requires -Version 7.4
# Stop-CastraVm against fake QEMU processes (tests/fixtures/fake-qemu): the event objects and their order
# (docs/events.md), JSON shape, warnings, errors, pipeline input, wildcards, -Verbose, -WhatIf, -Deadline, -TurnOff.

Describe 'Stop-CastraVm' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $ModulePath = Join-Path $PSScriptRoot ../../out/Castra/Castra.psd1
        Import-Module $ModulePath -Force
        $FakeQemu = Build-FakeQemu -OutputDirectory (Join-Path $TestDrive 'bin')
        $ProgressPreference = 'SilentlyContinue'
    }

    AfterAll {
        # Safety net: no fake QEMU built by this file outlives it.
        Stop-FakeQemu -FakeQemu $FakeQemu
    }

    BeforeEach {
        $root = New-CastraTestRoot
    }

    AfterEach {
        Remove-CastraTestRoot -Root $root
    }

    Context 'A guest that powers off on the ACPI button (graceful)' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
        }

        It 'emits ShutdownRequested, CooperativeAttempted, CooperativeSucceeded, ShutdownComplete with Sequence 1..4' {
            $events = @(Stop-CastraVm web -StateRoot $root)

            $events | Should -HaveCount 4
            $events.Type | Should -Be @('ShutdownRequested', 'CooperativeAttempted', 'CooperativeSucceeded', 'ShutdownComplete')
            $events.Sequence | Should -Be @(1, 2, 3, 4)
            foreach ($evt in $events) {
                $evt.PSTypeNames | Should -Contain 'Castra.Events.ShutdownEvent'
                $evt.VmName | Should -Be 'web'
            }
            @($events.ShutdownId | Select-Object -Unique) | Should -HaveCount 1
            $events[1].Method | Should -Be 'ACPI'
            $events[2].Method | Should -Be 'ACPI'
            $events[3].Outcome | Should -Be 'Graceful'
            $events[3].Changed | Should -BeTrue

            Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit'
            Get-FakeRecord -Root $root -Name web | Should -Contain 'cmd:system_powerdown'
        }

        It 'converts to flat JSON at the default depth: strings, integer milliseconds, ISO timestamps' {
            $events = @(Stop-CastraVm web -StateRoot $root)
            $json = $events | ConvertTo-Json

            $json | Should -Match '"Type":\s*"CooperativeAttempted"'
            $json | Should -Match '"Method":\s*"ACPI"'
            $json | Should -Match '"Outcome":\s*"Graceful"'
            # Default timeouts: the cooperative window is 60 s, written as a number, not a string.
            $json | Should -Match '"TimeoutMs":\s*60000\b'
            $json | Should -Match '"Timestamp":\s*"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z"'
            $json | Should -Not -Match '"Timestamp":\s*\{'

            $parsed = @($json | ConvertFrom-Json)
            $parsed | Should -HaveCount 4
            $parsed[1].Method | Should -BeOfType [string]
            $parsed[1].Method | Should -BeExactly 'ACPI'
            $parsed[1].TimeoutMs | Should -Be 60000
            $parsed[3].Outcome | Should -BeExactly 'Graceful'
        }

        It 'says with -Verbose how the run decided, without showing any event twice' {
            $all = @(Stop-CastraVm web -StateRoot $root -Verbose 4>&1)

            $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object { $_.Message })
            ($verbose -join "`n") | Should -Match '\[SHD\] web: QEMU PID \d+ is the VM''s'
            $events = @($all | Where-Object { $_.PSObject.TypeNames -contains 'Castra.Events.ShutdownEvent' })
            $events | Should -HaveCount 4
            foreach ($e in $events) { $verbose | Where-Object { $_.EndsWith($e.Summary) } | Should -BeNullOrEmpty }
        }
    }

    Context 'A guest that ignores the ACPI button' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior ignore-acpi
        }

        It 'escalates to SIGTERM after -CooperativeTimeout, ends Forced and warns that the VM was forced' {
            $events = @(Stop-CastraVm web -StateRoot $root -CooperativeTimeout 0.5 -WarningVariable stopWarnings -WarningAction SilentlyContinue)

            $events.Type | Should -Contain 'CooperativeTimedOut'
            $events.Sequence | Should -Be @(1..$events.Count)
            $escalations = @($events | Where-Object { $_.Type -eq 'Escalation' })
            $escalations | Should -HaveCount 1
            $escalations[0].Signal | Should -Be 'SIGTERM'
            $events[-1].Type | Should -Be 'ShutdownComplete'
            $events[-1].Outcome | Should -Be 'Forced'

            $stopWarnings | Should -Not -BeNullOrEmpty
            (@($stopWarnings | ForEach-Object { $_.Message }) -join "`n") | Should -Match 'forced'

            Get-FakeRecord -Root $root -Name web | Should -Contain 'signal:TERM'
            Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit on SIGTERM'
        }
    }

    Context '-TurnOff' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
        }

        It 'skips the cooperative step (Method None, Reason Skipped) and sends SIGTERM; -Force runs it without a prompt' {
            $events = @(Stop-CastraVm web -StateRoot $root -TurnOff -Force -WarningVariable turnOffWarnings)
            $turnOffWarnings | Should -BeNullOrEmpty

            $attempt = @($events | Where-Object { $_.Type -eq 'CooperativeAttempted' })
            $attempt | Should -HaveCount 1
            $attempt[0].Method | Should -Be 'None'
            $attempt[0].TimeoutMs | Should -Be 0
            $timedOut = @($events | Where-Object { $_.Type -eq 'CooperativeTimedOut' })
            $timedOut | Should -HaveCount 1
            $timedOut[0].Reason | Should -Be 'Skipped'
            @($events | Where-Object { $_.Type -eq 'Escalation' })[0].Signal | Should -Be 'SIGTERM'
            $events[-1].Outcome | Should -Be 'Forced'

            Get-FakeRecord -Root $root -Name web | Should -Not -Contain 'cmd:system_powerdown'
            Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit on SIGTERM'
        }

        It 'under pwsh -NonInteractive without -Force is a CastraConfirmationRequired error, a non-zero exit, and the VM keeps running' {
            # No one can answer the prompt: a clear error naming the fix, not PowerShell's own InvalidOperation and exit 0.
            $pwsh = Get-PwshPath
            $command = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; Import-Module '$ModulePath'; " +
                "try { Stop-CastraVm web -StateRoot '$root' -TurnOff } catch { 'ID=' + `$_.FullyQualifiedErrorId; `$_.Exception.Errors | ForEach-Object { 'INNER=' + `$_.FullyQualifiedErrorId + ' ' + `$_.ErrorDetails.Message }; exit 3 }"
            $lines = @(& $pwsh -NoLogo -NoProfile -NonInteractive -Command $command 2>&1 | ForEach-Object { "$_" })
            $LASTEXITCODE | Should -Be 3
            $text = $lines -join "`n"
            $text | Should -Match 'ID=CastraVmsNotStopped,'
            $text | Should -Match "INNER=CastraConfirmationRequired,\S+ Turning VM 'web' off needs confirmation.*add -Force"
            Test-ProcessAlive -Id $webPid | Should -BeTrue
            Get-FakeRecord -Root $root -Name web | Should -Not -Contain 'signal:TERM'
        }
    }

    Context 'Unknown VM names' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
        }

        It 'writes a non-terminating CastraVmNotFound error for the unknown VM and still stops the others' {
            $events = @(Stop-CastraVm 'ghost', 'web' -StateRoot $root -ErrorAction SilentlyContinue -ErrorVariable stopErrors)

            $stopErrors | Should -HaveCount 1
            $stopErrors[0].FullyQualifiedErrorId | Should -BeLike 'CastraVmNotFound*'
            $stopErrors[0].TargetObject | Should -Be 'ghost'
            $stopErrors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'

            @($events.VmName | Select-Object -Unique) | Should -Be @('web')
            $events[-1].Type | Should -Be 'ShutdownComplete'
            $events[-1].Outcome | Should -Be 'Graceful'
            Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit'
        }
    }

    Context 'Selecting VMs' {
        It 'stops every VM piped from Get-CastraVm' {
            $fakeIds = foreach ($vmName in 'a', 'b', 'c') {
                Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name $vmName -Behavior graceful
            }

            $events = @(Get-CastraVm -StateRoot $root | Stop-CastraVm -StateRoot $root)

            $events | Should -HaveCount 12
            $complete = @($events | Where-Object { $_.Type -eq 'ShutdownComplete' })
            @($complete.VmName | Sort-Object) | Should -Be @('a', 'b', 'c')
            foreach ($done in $complete) {
                $done.Outcome | Should -Be 'Graceful'
            }
            foreach ($fakeId in $fakeIds) {
                Wait-Until { -not (Test-ProcessAlive -Id $fakeId) } -TimeoutSeconds 10 -Because "fake QEMU $fakeId to exit"
            }
            @(Get-CastraVm -StateRoot $root | Where-Object { $_.State -ne 'Stopped' }) | Should -HaveCount 0
        }

        It 'stops only the VMs a wildcard pattern matches' {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web
            $web2Pid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web2
            $dbPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name db

            $events = @(Stop-CastraVm 'we*' -StateRoot $root)

            @($events | Where-Object { $_.Type -eq 'ShutdownComplete' } | ForEach-Object { $_.VmName } | Sort-Object) | Should -Be @('web', 'web2')
            $events.VmName | Should -Not -Contain 'db'
            Wait-Until { -not (Test-ProcessAlive -Id $webPid) -and -not (Test-ProcessAlive -Id $web2Pid) } -TimeoutSeconds 10 -Because 'web and web2 to exit'
            Test-ProcessAlive -Id $dbPid | Should -BeTrue
            Get-FakeRecord -Root $root -Name db | Should -Not -Contain 'cmd:system_powerdown'
        }
    }

    Context '-WhatIf' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
        }

        It 'stops nothing' {
            $output = @(Stop-CastraVm web -StateRoot $root -WhatIf)

            $output | Should -HaveCount 0
            Test-ProcessAlive -Id $webPid | Should -BeTrue
            $record = @(Get-FakeRecord -Root $root -Name web)
            $record | Should -Contain 'start'
            $record | Should -Not -Contain 'cmd:system_powerdown'
            (Get-CastraVm web -StateRoot $root).State | Should -Be 'Running'
            Get-CastraShutdownStatus web -StateRoot $root | Should -BeNullOrEmpty
        }

        It 'describes the plan, including the worst case' {
            # What-if text goes to the host, not to a stream: capture it from a child pwsh's standard output.
            $pwsh = Get-PwshPath
            $command = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; " +
                "Import-Module '$ModulePath'; Stop-CastraVm web -StateRoot '$root' -WhatIf; 'CHILD-DONE'"
            $lines = @(& $pwsh -NoLogo -NoProfile -NonInteractive -Command $command 2>&1 | ForEach-Object { "$_" })
            $text = ($lines -join ' ') -replace '\s+', ' '

            $text | Should -Match 'CHILD-DONE'
            $text | Should -Match 'What if:'
            $text | Should -Match "Stop VM 'web'"
            $text | Should -Match 'worst case'
            Test-ProcessAlive -Id $webPid | Should -BeTrue
            Get-FakeRecord -Root $root -Name web | Should -Not -Contain 'cmd:system_powerdown'
        }
    }

    Context '-Deadline' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
        }

        It 'throws a terminating CastraDeadlineExceeded error and stops nothing when the worst case exceeds it' {
            # Default timeouts: worst case 60 + 10 + 5 = 75 s, far over 1 s.
            { Stop-CastraVm web -StateRoot $root -Deadline 1 } | Should -Throw -ErrorId 'CastraDeadlineExceeded*'

            $caught = $null
            $reached = $false
            try {
                Stop-CastraVm web -StateRoot $root -Deadline 1
                $reached = $true
            }
            catch {
                $caught = $_
            }
            $reached | Should -BeFalse
            $caught | Should -Not -BeNullOrEmpty
            $caught.FullyQualifiedErrorId | Should -BeLike 'CastraDeadlineExceeded*'

            Test-ProcessAlive -Id $webPid | Should -BeTrue
            Get-FakeRecord -Root $root -Name web | Should -Not -Contain 'cmd:system_powerdown'
            Get-CastraShutdownStatus web -StateRoot $root | Should -BeNullOrEmpty
            (Get-CastraVm web -StateRoot $root).State | Should -Be 'Running'
        }

        It 'stops the VM when the worst case fits in the deadline' {
            $events = @(Stop-CastraVm web -StateRoot $root -Deadline 300)

            $events[-1].Type | Should -Be 'ShutdownComplete'
            $events[-1].Outcome | Should -Be 'Graceful'
        }
    }

    Context 'Parameter validation' {
        BeforeEach {
            $null = New-CastraVmDirectory -Root $root -Name web
        }

        It 'rejects -TermTimeout 0 at parameter binding' {
            { Stop-CastraVm web -StateRoot $root -TermTimeout 0 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError*' -ExceptionType ([System.Management.Automation.ParameterBindingException])
        }

        It 'rejects -CooperativeTimeout -1 at parameter binding' {
            { Stop-CastraVm web -StateRoot $root -CooperativeTimeout -1 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError*' -ExceptionType ([System.Management.Automation.ParameterBindingException])
        }

        It 'rejects an empty -StateRoot at parameter binding' {
            { Stop-CastraVm web -StateRoot '' } |
                Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
        }
    }
}

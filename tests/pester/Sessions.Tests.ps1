#Requires -Version 7.4
# Guest sessions: Start-CastraVmSession and Get-CastraVmSession against fake QEMU processes
# (tests/fixtures/fake-qemu), and their interruption by Stop-CastraVm (the castra.drain-sessions step).

Describe 'Guest sessions' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $ModulePath = Join-Path $PSScriptRoot ../../out/Castra/Castra.psd1
        Import-Module $ModulePath -Force
        $FakeQemu = Build-FakeQemu -OutputDirectory (Join-Path $TestDrive 'bin')
        $ProgressPreference = 'SilentlyContinue'

        function Stop-TestSession {
            # Sessions a failed test left running (each leads its own process group).
            param([string] $Root)
            foreach ($session in @(Get-CastraVmSession -StateRoot $Root -ErrorAction SilentlyContinue)) {
                if ($session.Status -ne 'Stopped') {
                    Stop-Process -Id $session.Pid -Force -ErrorAction SilentlyContinue
                }
            }
        }
    }

    AfterAll {
        Stop-FakeQemu -FakeQemu $FakeQemu
    }

    BeforeEach {
        $root = New-CastraTestRoot
    }

    AfterEach {
        Stop-TestSession -Root $root
        Remove-CastraTestRoot -Root $root
    }

    Context 'A running VM' {
        BeforeEach {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
        }

        It 'starts a session and lists it' {
            $session = Start-CastraVmSession web -FilePath sleep -ArgumentList 300 -StateRoot $root

            $session.PSTypeNames | Should -Contain 'Castra.Sessions.VmSession'
            $session.VmName | Should -Be 'web'
            $session.Status | Should -Be 'Running'
            $session.RunId | Should -Not -BeNullOrEmpty
            $session.Command | Should -Be 'sleep 300'
            $session.StateRoot | Should -Be $root
            $session.LogPath | Should -BeLike "$root/vms/web/sessions/*.log"
            Test-ProcessAlive -Id $session.Pid | Should -BeTrue

            $listed = @(Get-CastraVmSession -VmName web -StateRoot $root)
            $listed | Should -HaveCount 1
            $listed[0].RunId | Should -Be $session.RunId
            $listed[0].Status | Should -Be 'Running'
            @(Get-CastraVmSession 'w*' -StateRoot $root) | Should -HaveCount 1
            @(Get-CastraVmSession -StateRoot $root -Status Running) | Should -HaveCount 1
            @(Get-CastraVmSession -StateRoot $root -Status Stopped) | Should -HaveCount 0
            # VmInfo objects bind by their Name (an alias of -VmName) and StateRoot.
            @(Get-CastraVm web -StateRoot $root | Get-CastraVmSession) | Should -HaveCount 1
        }

        It 'converts a VmSession to flat JSON with a string Status' {
            $session = Start-CastraVmSession web -FilePath sleep -ArgumentList 300 -StateRoot $root

            $json = $session | ConvertTo-Json
            $json | Should -Match '"Status":\s*"Running"'
            $json | Should -Match '"StartedAt":\s*"\d{4}-\d{2}-\d{2}T'
            $json | Should -Not -Match '"StartedAt":\s*\{'

            $parsed = $json | ConvertFrom-Json
            $parsed.Status | Should -BeOfType [string]
            $parsed.Status | Should -BeExactly 'Running'
            $parsed.RunId | Should -BeExactly $session.RunId
            $parsed.Arguments | Should -Be @('300')
        }

        It 'is interrupted first by Stop-CastraVm (SIGINT), then shows Stopped' {
            $session = Start-CastraVmSession web -FilePath sleep -ArgumentList 300 -StateRoot $root

            $events = @(Stop-CastraVm web -StateRoot $root -DrainTimeout 5)

            # The drain is Castra's own first step, reported like a hook.
            $events[0].Type | Should -Be 'ShutdownRequested'
            $events[1].Type | Should -Be 'HookStarted'
            $events[1].HookName | Should -Be 'castra.drain-sessions'
            $events[1].Priority | Should -Be 0
            $drained = @($events | Where-Object { $_.Type -eq 'HookCompleted' -and $_.HookName -eq 'castra.drain-sessions' })
            $drained | Should -HaveCount 1
            $drained[0].Status | Should -Be 'Succeeded'
            $events[-1].Type | Should -Be 'ShutdownComplete'
            $events[-1].Outcome | Should -Be 'Graceful'
            $events[-1].SessionsInterrupted | Should -Be 1

            Wait-Until { -not (Test-ProcessAlive -Id $session.Pid) } -TimeoutSeconds 10 -Because 'the session to end'
            $after = @(Get-CastraVmSession web -StateRoot $root)
            $after | Should -HaveCount 1
            $after[0].RunId | Should -Be $session.RunId
            $after[0].Status | Should -Be 'Stopped'
            $after[0].InterruptedBy | Should -Be 'SIGINT'
            $after[0].StoppedAt | Should -Not -BeNullOrEmpty
            @(Get-CastraVmSession -StateRoot $root -Status Stopped) | Should -HaveCount 1
            Wait-Until { -not (Test-ProcessAlive -Id $webPid) } -TimeoutSeconds 10 -Because 'the fake QEMU to exit'
        }

        It 'waits for the session with -Wait and returns its exit code' {
            $final = Start-CastraVmSession web -FilePath sh -ArgumentList '-c', 'exit 3' -Wait -StateRoot $root

            $final.Status | Should -Be 'Stopped'
            $final.ExitCode | Should -Be 3
            $final.StoppedAt | Should -Not -BeNullOrEmpty
            (Get-CastraVmSession web -StateRoot $root).ExitCode | Should -Be 3
        }

        It 'writes the session output to its log, with CASTRA_VM_NAME in its environment' {
            $final = Start-CastraVmSession web -FilePath sh -ArgumentList '-c', 'echo "vm=$CASTRA_VM_NAME"' -Wait -StateRoot $root

            $final.ExitCode | Should -Be 0
            (Get-Content -LiteralPath $final.LogPath -Raw) | Should -Match 'vm=web'
        }

        It 'starts nothing with -WhatIf' {
            Start-CastraVmSession web -FilePath sleep -ArgumentList 300 -StateRoot $root -WhatIf

            @(Get-CastraVmSession -StateRoot $root) | Should -HaveCount 0
        }
    }

    Context 'VMs that cannot take a session' {
        It 'refuses a VM that is not running (CastraVmNotRunning) and an unknown VM (CastraVmNotFound)' {
            $null = New-CastraVmDirectory -Root $root -Name idle

            { Start-CastraVmSession idle -FilePath sleep -ArgumentList 300 -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'CastraVmNotRunning*'
            Start-CastraVmSession ghost -FilePath sleep -ArgumentList 300 -StateRoot $root -ErrorAction SilentlyContinue -ErrorVariable startErrors
            $startErrors | Should -HaveCount 1
            $startErrors[0].FullyQualifiedErrorId | Should -BeLike 'CastraVmNotFound,*'
            $startErrors[0].TargetObject | Should -Be 'ghost'
            @(Get-CastraVmSession -StateRoot $root) | Should -HaveCount 0
        }

        It 'reports an unknown literal VM name from Get-CastraVmSession and returns nothing for a pattern' {
            Get-CastraVmSession ghost -StateRoot $root -ErrorAction SilentlyContinue -ErrorVariable getErrors | Should -BeNullOrEmpty
            $getErrors | Should -HaveCount 1
            $getErrors[0].FullyQualifiedErrorId | Should -BeLike 'CastraVmNotFound,*'
            @(Get-CastraVmSession 'gh*' -StateRoot $root -ErrorAction Stop) | Should -HaveCount 0
        }
    }
}

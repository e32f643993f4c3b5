#Requires -Version 7.4
# Get-CastraVm, Get-CastraShutdownStatus and Start-CastraVm against the on-disk layout of docs/state-layout.md.

Describe 'Status and launch cmdlets' {
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

    Context 'Get-CastraVm' {
        It 'shows Running (with Pid and Qmp), Stopped and Stale VMs' {
            $runPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name run
            $null = New-CastraVmDirectory -Root $root -Name off
            $staleDir = New-CastraVmDirectory -Root $root -Name stale
            Set-Content -LiteralPath (Join-Path $staleDir 'qemu.pid') -Value 'garbage'

            $vms = @(Get-CastraVm -StateRoot $root)

            $vms | Should -HaveCount 3
            $vms.Name | Should -Be @('off', 'run', 'stale')
            foreach ($vm in $vms) {
                $vm.PSTypeNames | Should -Contain 'Castra.State.VmInfo'
            }

            $run = $vms | Where-Object { $_.Name -eq 'run' }
            $run.State | Should -Be 'Running'
            $run.Pid | Should -Be $runPid
            $run.Qmp | Should -BeTrue
            $run.Agent | Should -BeFalse

            $off = $vms | Where-Object { $_.Name -eq 'off' }
            $off.State | Should -Be 'Stopped'
            $off.Pid | Should -BeNullOrEmpty
            $off.Qmp | Should -BeFalse

            $stale = $vms | Where-Object { $_.Name -eq 'stale' }
            $stale.State | Should -Be 'Stale'
            $stale.Pid | Should -BeNullOrEmpty
            $stale.Detail | Should -Not -BeNullOrEmpty

            # Read-only: the stale pidfile is still there and nothing was asked of the running VM.
            Test-Path -LiteralPath (Join-Path $staleDir 'qemu.pid') | Should -BeTrue
            Get-FakeRecord -Root $root -Name run | Should -Not -Contain 'cmd:system_powerdown'
        }

        It 'shows a VM whose QEMU was killed (pidfile left behind) as Stale' {
            $deadPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name dead
            Stop-Process -Id $deadPid -Force
            Wait-Until { -not (Test-ProcessAlive -Id $deadPid) } -TimeoutSeconds 10 -Because 'the killed fake to die'

            $vm = Get-CastraVm dead -StateRoot $root

            $vm.State | Should -Be 'Stale'
            $vm.Pid | Should -BeNullOrEmpty
        }

        It 'selects by name and wildcard, and reports an unknown name as CastraVmNotFound' {
            $null = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web
            $null = New-CastraVmDirectory -Root $root -Name db

            @(Get-CastraVm 'w*' -StateRoot $root).Name | Should -Be @('web')
            $vms = @(Get-CastraVm 'db', 'ghost' -StateRoot $root -ErrorAction SilentlyContinue -ErrorVariable getErrors)

            $vms.Name | Should -Be @('db')
            $getErrors | Should -HaveCount 1
            $getErrors[0].FullyQualifiedErrorId | Should -BeLike 'CastraVmNotFound*'
            $getErrors[0].TargetObject | Should -Be 'ghost'
        }
    }

    Context 'Get-CastraShutdownStatus' {
        It 'shows nothing for a VM that was never shut down' {
            $null = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web

            Get-CastraShutdownStatus web -StateRoot $root | Should -BeNullOrEmpty
        }

        It 'shows State Complete and the Outcome after a stop' {
            $webPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web
            $events = @(Stop-CastraVm web -StateRoot $root)

            $status = Get-CastraShutdownStatus web -StateRoot $root

            @($status) | Should -HaveCount 1
            $status.PSTypeNames | Should -Contain 'Castra.State.ShutdownStatus'
            $status.VmName | Should -Be 'web'
            $status.State | Should -Be 'Complete'
            $status.Phase | Should -Be 'Complete'
            $status.Outcome | Should -Be 'Graceful'
            $status.ShutdownId | Should -Be $events[0].ShutdownId
            $status.QemuPid | Should -Be $webPid
            $status.OwnerPid | Should -Be $PID

            $vm = Get-CastraVm web -StateRoot $root
            $vm.State | Should -Be 'Stopped'
            $vm.LastOutcome | Should -Be 'Graceful'
        }

        It 'shows State InProgress and Phase Cooperative while a shutdown runs in a job' {
            $slowPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name slow -Behavior ignore-acpi
            $job = Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 5 -AsJob

            # Poll within the 5 s window: the job owns the run and updates shutdown.json as it goes.
            $status = $null
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            do {
                $status = Get-CastraShutdownStatus slow -StateRoot $root -ErrorAction SilentlyContinue
                if ($status -and $status.Phase -eq 'Cooperative') { break }
                Start-Sleep -Milliseconds 50
            } while ($watch.Elapsed.TotalSeconds -lt 4.5)

            $status | Should -Not -BeNullOrEmpty
            $status.State | Should -Be 'InProgress'
            $status.Phase | Should -Be 'Cooperative'
            $status.Outcome | Should -BeNullOrEmpty
            $status.CooperativeTimeoutMs | Should -Be 5000

            # The job then runs out the window, sends SIGTERM and completes.
            $null = Wait-Job -Job $job -Timeout 60
            $job.State | Should -Be 'Completed'
            $final = Get-CastraShutdownStatus slow -StateRoot $root
            $final.State | Should -Be 'Complete'
            $final.Outcome | Should -Be 'Forced'
            Wait-Until { -not (Test-ProcessAlive -Id $slowPid) } -TimeoutSeconds 10 -Because 'the fake to exit on SIGTERM'
        }
    }

    Context 'Start-CastraVm' {
        It 'writes a CastraQemuNotInstalled error when QEMU is missing' {
            $started = @(Start-CastraVm nq -StateRoot $root -QemuPath /nonexistent/qemu -Kernel /bin/sh -PassThru -ErrorAction SilentlyContinue -ErrorVariable startErrors)

            $started | Should -HaveCount 0
            $startErrors | Should -HaveCount 1
            $startErrors[0].FullyQualifiedErrorId | Should -BeLike 'CastraQemuNotInstalled*'
            $startErrors[0].TargetObject | Should -Be 'nq'
            $startErrors[0].CategoryInfo.Category | Should -Be 'NotInstalled'
            Test-Path -LiteralPath (Join-Path $root 'vms/nq/qemu.pid') | Should -BeFalse
        }

        It 'starts nothing with -WhatIf' {
            $started = @(Start-CastraVm wi -StateRoot $root -QemuPath $FakeQemu -Kernel /bin/sh -Accelerator tcg -PassThru -WhatIf)

            $started | Should -HaveCount 0
            Test-Path -LiteralPath (Join-Path $root 'vms/wi') | Should -BeFalse
            @(Get-FakeQemuProcessId -Root $root) | Should -HaveCount 0
            @(Get-CastraVm -StateRoot $root) | Should -HaveCount 0
        }

        It 'starts a QEMU (the fake) that Get-CastraVm shows Running and Stop-CastraVm stops' {
            $vm = Start-CastraVm fk -StateRoot $root -QemuPath $FakeQemu -Kernel /bin/sh -Accelerator tcg -PassThru

            $vm | Should -Not -BeNullOrEmpty
            $vm.Name | Should -Be 'fk'
            $vm.State | Should -Be 'Running'
            $vm.Qmp | Should -BeTrue
            $vm.Pid | Should -BeGreaterThan 0
            Test-Path -LiteralPath (Join-Path $root 'vms/fk/vm.json') | Should -BeTrue
            (Get-CastraVm fk -StateRoot $root).State | Should -Be 'Running'

            $events = @(Stop-CastraVm fk -StateRoot $root)
            $events[-1].Outcome | Should -Be 'Graceful'
            Wait-Until { -not (Test-ProcessAlive -Id $vm.Pid) } -TimeoutSeconds 10 -Because 'the started fake to exit'
        }
    }
}

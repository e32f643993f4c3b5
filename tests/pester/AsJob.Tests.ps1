#Requires -Version 7.4
# Stop-CastraVm -AsJob: a CastraShutdownJob with one child job per VM, driven by the standard job cmdlets.

Describe 'Stop-CastraVm -AsJob' {
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
        # Stop any job a failed test left running before its VMs and state root go away.
        Stop-CastraTestJob
        Remove-CastraTestRoot -Root $root
    }

    Context 'Two graceful VMs' {
        BeforeEach {
            $aPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name a -Behavior graceful
            $bPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name b -Behavior graceful
        }

        It 'returns a CastraShutdownJob with one child job per VM, named after the VM' {
            $job = Stop-CastraVm 'a', 'b' -StateRoot $root -AsJob

            @($job) | Should -HaveCount 1
            $job | Should -BeOfType [System.Management.Automation.Job]
            $job.PSJobTypeName | Should -Be 'CastraShutdownJob'
            $job.ChildJobs | Should -HaveCount 2
            @($job.ChildJobs.Name | Sort-Object) | Should -Be @('a', 'b')
            foreach ($child in $job.ChildJobs) {
                $child.PSJobTypeName | Should -Be 'CastraShutdownJob'
            }

            $null = Wait-Job -Job $job -Timeout 60
        }

        It 'yields 8 events through Receive-Job -Wait -AutoRemoveJob, each VM in Sequence order' {
            $job = Stop-CastraVm 'a', 'b' -StateRoot $root -AsJob
            $jobId = $job.Id

            $events = @(Receive-Job -Job $job -Wait -AutoRemoveJob)

            $events | Should -HaveCount 8
            foreach ($vmName in 'a', 'b') {
                $mine = @($events | Where-Object { $_.VmName -eq $vmName })
                $mine | Should -HaveCount 4
                $mine.Sequence | Should -Be @(1, 2, 3, 4)
                $mine.Type | Should -Be @('ShutdownRequested', 'CooperativeAttempted', 'CooperativeSucceeded', 'ShutdownComplete')
                $mine[-1].Outcome | Should -Be 'Graceful'
            }
            foreach ($evt in $events) {
                $evt.PSTypeNames | Should -Contain 'Castra.Events.ShutdownEvent'
            }

            Get-Job -Id $jobId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Wait-Until { -not (Test-ProcessAlive -Id $aPid) -and -not (Test-ProcessAlive -Id $bPid) } -TimeoutSeconds 10 -Because 'both fakes to exit'
        }

        It 'works with Wait-Job, Receive-Job and Remove-Job' {
            $job = Stop-CastraVm 'a', 'b' -StateRoot $root -AsJob

            $waited = Wait-Job -Job $job -Timeout 60
            $waited | Should -Not -BeNullOrEmpty
            $waited.InstanceId | Should -Be $job.InstanceId
            $job.State | Should -Be 'Completed'
            foreach ($child in $job.ChildJobs) {
                $child.State | Should -Be 'Completed'
            }
            $job.HasMoreData | Should -BeTrue

            $events = @(Receive-Job -Job $job)
            $events | Should -HaveCount 8
            $job.HasMoreData | Should -BeFalse

            Remove-Job -Job $job
            Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
    }

    Context 'A guest that ignores the ACPI button, with a 60 s cooperative window' {
        BeforeEach {
            $slowPid = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name slow -Behavior ignore-acpi
        }

        It 'lists the job in Get-Job while it runs' {
            $job = Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 60 -AsJob

            $listed = @(Get-Job -Id $job.Id)
            $listed | Should -HaveCount 1
            $listed[0].InstanceId | Should -Be $job.InstanceId
            $listed[0].PSJobTypeName | Should -Be 'CastraShutdownJob'
            $listed[0].State | Should -Be 'Running'
            @(Get-Job | Where-Object { $_.InstanceId -eq $job.InstanceId }) | Should -HaveCount 1
        }

        It 'Stop-Job cancels it within a few seconds: job Stopped, QEMU untouched, status Cancelled' {
            $job = Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 60 -AsJob
            # Stop the job once the cooperative wait is under way (the button has been pressed).
            Wait-Until { @(Get-FakeRecord -Root $root -Name slow) -contains 'cmd:system_powerdown' } -TimeoutSeconds 30 -Because 'the ACPI button press'

            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            Stop-Job -Job $job
            $watch.Stop()

            $watch.Elapsed.TotalSeconds | Should -BeLessThan 20
            $job.State | Should -Be 'Stopped'
            Test-ProcessAlive -Id $slowPid | Should -BeTrue
            Get-FakeRecord -Root $root -Name slow | Should -Not -Contain 'signal:TERM'

            $status = Get-CastraShutdownStatus slow -StateRoot $root
            $status.State | Should -Be 'Complete'
            $status.Outcome | Should -Be 'Cancelled'

            $events = @(Receive-Job -Job $job)
            $events[-1].Type | Should -Be 'ShutdownComplete'
            $events[-1].Outcome | Should -Be 'Cancelled'

            Remove-Job -Job $job
            Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'Remove-Job refuses a running job without -Force; with -Force it stops and removes it' {
            $job = Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 60 -AsJob
            Wait-Until { @(Get-FakeRecord -Root $root -Name slow) -contains 'cmd:system_powerdown' } -TimeoutSeconds 30 -Because 'the ACPI button press'

            Remove-Job -Job $job -ErrorAction SilentlyContinue -ErrorVariable removeErrors
            $removeErrors | Should -Not -BeNullOrEmpty
            @(Get-Job -Id $job.Id -ErrorAction SilentlyContinue) | Should -HaveCount 1

            Remove-Job -Job $job -Force
            Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Test-ProcessAlive -Id $slowPid | Should -BeTrue
            (Get-CastraShutdownStatus slow -StateRoot $root).Outcome | Should -Be 'Cancelled'
        }
    }

    Context 'Start-Job and the round trip of its output' {
        It 'gives back events whose timestamps keep their milliseconds (UTC) and render in the table with PSComputerName' {
            $null = Start-FakeVm -FakeQemu $FakeQemu -Root $root -Name web -Behavior graceful
            $manifest = $ModulePath

            $events = @(Start-Job { Import-Module $using:manifest; Stop-CastraVm web -StateRoot $using:root } | Receive-Job -Wait -AutoRemoveJob)

            $events | Should -HaveCount 4
            foreach ($e in $events) {
                $e.Timestamp | Should -BeOfType [datetime]
                $e.Timestamp.Kind | Should -Be 'Utc'
                $e.PSComputerName | Should -Be 'localhost'
            }
            @($events | Where-Object { $_.Timestamp.Millisecond -ne 0 }) | Should -Not -BeNullOrEmpty
            $table = ($events | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() }
            $table[0] | Should -Match '^PSComputerName\s+Time\s+Event'
            $table[2] | Should -Match '^localhost\s+\d\d:\d\d:\d\d\.\d{3} web \[1\] ShutdownRequested:'
        }
    }
}

# Shared helpers for the Castra Pester tests. Dot-source in a BeforeAll block:
#
#     BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }
#
# Fake VMs are the C fake QEMU in tests/fixtures/fake-qemu (see its README.md): real, separate processes with a
# pidfile and a QMP socket, laid out as docs/state-layout.md describes. State roots live under /tmp/cp-XXXXXXXX
# because a unix socket path is limited to 107 bytes and $TestDrive can be long.

function Build-FakeQemu {
    <#
    Compiles tests/fixtures/fake-qemu/fake-qemu.c into OutputDirectory/qemu-system-fake and returns its full path:
    named like a QEMU system emulator, because Castra only signals a process that looks like QEMU.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string] $OutputDirectory)

    $source = Join-Path $PSScriptRoot '../fixtures/fake-qemu/fake-qemu.c'
    if (-not (Test-Path -LiteralPath $source)) { throw "fake QEMU source not found at $source" }
    $cc = Get-Command -Name cc -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $cc) { throw 'A C compiler (cc) is needed to build the fake QEMU (Debian: apt-get install gcc).' }

    $null = New-Item -ItemType Directory -Path $OutputDirectory -Force
    $binary = Join-Path (Resolve-Path -LiteralPath $OutputDirectory).ProviderPath 'qemu-system-fake'
    $messages = & $cc.Source '-O2' -o $binary $source 2>&1
    if ($LASTEXITCODE -ne 0) { throw "cc failed to build the fake QEMU (exit $LASTEXITCODE): $($messages -join [Environment]::NewLine)" }
    $binary
}

function New-CastraTestRoot {
    <# Creates a short, empty state root /tmp/cp-XXXXXXXX (with its vms/ directory) and returns its path. #>
    [CmdletBinding()]
    param()

    $path = '/tmp/cp-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $null = New-Item -ItemType Directory -Path (Join-Path $path 'vms') -Force
    $path
}

function New-CastraVmDirectory {
    <# Creates vms/NAME under the root (a VM exists exactly when its directory does) and returns the directory. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string] $Root, [Parameter(Mandatory)][string] $Name)

    $dir = Join-Path $Root "vms/$Name"
    $null = New-Item -ItemType Directory -Path $dir -Force
    $dir
}

function Start-FakeVm {
    <#
    Starts a daemonized fake QEMU for VM NAME under the root, wired like `castra up` wires QEMU (pidfile and QMP
    socket in the VM's directory), recording what it sees in vms/NAME/record.log. Returns its PID.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string] $FakeQemu,
        [Parameter(Mandatory)][string] $Root,
        [Parameter(Mandatory)][string] $Name,
        [ValidateSet('graceful', 'ignore-acpi', 'ignore-term', 'no-greeting', 'bad-greeting', 'error-reply')]
        [string] $Behavior = 'graceful',
        [string[]] $ExtraArgument = @()
    )

    $dir = New-CastraVmDirectory -Root $Root -Name $Name
    $pidFile = Join-Path $dir 'qemu.pid'
    $arguments = @(
        '-name', $Name,
        '-daemonize',
        '-pidfile', $pidFile,
        '-qmp', "unix:$(Join-Path $dir 'qmp.sock'),server=on,wait=off",
        '-display', 'none',
        '--fake-behavior', $Behavior,
        '--fake-record', (Join-Path $dir 'record.log')
    ) + $ExtraArgument

    # With -daemonize the launching process returns only once the pidfile exists and the socket listens.
    $messages = & $FakeQemu @arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "fake QEMU for '$Name' failed to start (exit $LASTEXITCODE): $($messages -join ' ')" }
    [int] (Get-Content -LiteralPath $pidFile -Raw).Trim()
}

function Get-FakeRecord {
    <# The events the fake QEMU of VM NAME recorded (the <what> of each record line: start, qmp-connect, cmd:..., signal:..., exit). #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string] $Root, [Parameter(Mandatory)][string] $Name)

    $file = Join-Path $Root "vms/$Name/record.log"
    if (-not (Test-Path -LiteralPath $file)) { return }
    Get-Content -LiteralPath $file | Where-Object { $_ } | ForEach-Object { ($_ -split ' ', 2)[0] }
}

function Test-ProcessAlive {
    <# True while the process exists and is not a zombie (an exited child of a non-reaping parent stays a zombie). #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][int] $Id)

    try {
        $stat = [System.IO.File]::ReadAllText("/proc/$Id/stat")
    }
    catch {
        return $false
    }

    # Field 3 (state) follows "pid (comm) "; comm may itself contain ')' so search from the end.
    $close = $stat.LastIndexOf(')')
    if ($close -lt 0 -or $close + 2 -ge $stat.Length) { return $false }
    $state = [string] $stat[$close + 2]
    return ($state -cne 'Z') -and ($state -cne 'X') -and ($state -cne 'x')
}

function Wait-Until {
    <#
    Polls Condition every 100 ms until it returns something truthy, and returns that; throws after TimeoutSeconds.
    Use generous timeouts: this only bounds how long a broken test hangs.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][scriptblock] $Condition,
        [double] $TimeoutSeconds = 30,
        [string] $Because = 'the condition'
    )

    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        $result = & $Condition
        if ($result) { return $result }
        if ($watch.Elapsed.TotalSeconds -ge $TimeoutSeconds) {
            throw "Timed out after $TimeoutSeconds s waiting for $Because."
        }
        Start-Sleep -Milliseconds 100
    }
}

function Get-FakeQemuProcessId {
    <#
    PIDs of live fake QEMU processes: those whose command line names the state root (their -pidfile does), and/or
    whose program is the given fake QEMU binary.
    #>
    [CmdletBinding()]
    param([string] $Root, [string] $FakeQemu)

    if (-not $Root -and -not $FakeQemu) { return }
    foreach ($entry in [System.IO.Directory]::EnumerateDirectories('/proc')) {
        $name = [System.IO.Path]::GetFileName($entry)
        if ($name -notmatch '^\d+$') { continue }
        $id = [int] $name
        if ($id -eq $PID) { continue }
        try {
            $cmdline = [System.IO.File]::ReadAllText("$entry/cmdline")
        }
        catch {
            continue
        }

        if (-not $cmdline) { continue }
        $argv = $cmdline.Split([char] 0)
        if (-not $argv[0].EndsWith('qemu-system-fake', [System.StringComparison]::Ordinal)) { continue }
        $matchesRoot = $Root -and $cmdline.Contains("$Root/", [System.StringComparison]::Ordinal)
        $matchesBinary = $FakeQemu -and $argv[0] -eq $FakeQemu
        if (($matchesRoot -or $matchesBinary) -and (Test-ProcessAlive -Id $id)) { $id }
    }
}

function Stop-FakeQemu {
    <# SIGKILLs the fake QEMU processes Get-FakeQemuProcessId finds and waits (up to 10 s) until they are gone. #>
    [CmdletBinding()]
    param([string] $Root, [string] $FakeQemu)

    $ids = @(Get-FakeQemuProcessId -Root $Root -FakeQemu $FakeQemu)
    foreach ($id in $ids) {
        Stop-Process -Id $id -Force -ErrorAction SilentlyContinue
    }

    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    while ($watch.Elapsed.TotalSeconds -lt 10 -and @($ids | Where-Object { Test-ProcessAlive -Id $_ }).Count -gt 0) {
        Start-Sleep -Milliseconds 50
    }
}

function Stop-CastraTestJob {
    <# Stops and removes every Castra shutdown job of this session (so a failed test leaves no engine running). #>
    [CmdletBinding()]
    param()

    $jobs = @(Get-Job -ErrorAction SilentlyContinue | Where-Object { $_.PSJobTypeName -eq 'CastraShutdownJob' })
    foreach ($job in $jobs) {
        Stop-Job -Job $job -ErrorAction SilentlyContinue
        Remove-Job -Job $job -Force -ErrorAction SilentlyContinue
    }
}

function Remove-CastraTestRoot {
    <# Kills every fake QEMU of the root, then deletes the root. Only touches /tmp/cp-* paths. #>
    [CmdletBinding()]
    param([string] $Root)

    if (-not $Root) { return }
    if ($Root -notlike '/tmp/cp-*') { throw "refusing to remove '$Root': not a Castra test root" }
    Stop-FakeQemu -Root $Root
    if (Test-Path -LiteralPath $Root) {
        Remove-Item -LiteralPath $Root -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Get-PwshPath {
    <# The pwsh executable running these tests (for child sessions whose host output must be captured). #>
    [CmdletBinding()]
    param()

    $candidate = Join-Path $PSHOME 'pwsh'
    if (Test-Path -LiteralPath $candidate) { return $candidate }
    (Get-Command -Name pwsh -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
}

# The benchmark's PowerShell side (bench/Castra.Bench/Guest/PwshSession.cs): imports the module once, timed, then
# runs one Stop-CastraVm per request line on stdin, timed inside pwsh, and answers each with one JSON line on stdout.
# A warm session serves many requests; a fresh one serves one (its first Stop-CastraVm).
param([Parameter(Mandatory)] [string] $Module)
$ErrorActionPreference = 'Stop'
$clock = [Diagnostics.Stopwatch]::StartNew()
Import-Module $Module
$importMs = $clock.Elapsed.TotalMilliseconds
[Console]::Out.WriteLine((ConvertTo-Json -Compress @{ ready = $true; importMs = $importMs }))
[Console]::Out.Flush()
while ($null -ne ($line = [Console]::In.ReadLine())) {
    $request = ConvertFrom-Json $line
    try {
        $started = [DateTimeOffset]::UtcNow
        $events = @(Stop-CastraVm -Name $request.name -StateRoot $request.stateRoot -Confirm:$false)
        $ended = [DateTimeOffset]::UtcNow
        $last = $events | Select-Object -Last 1
        $answer = @{
            startedTicks = $started.UtcTicks
            endedTicks   = $ended.UtcTicks
            outcome      = "$($last.Outcome)"
            types        = ($events | ForEach-Object { "$($_.Type)" }) -join ','
        }
    }
    catch {
        $answer = @{ error = "$_" }
    }
    [Console]::Out.WriteLine((ConvertTo-Json -Compress $answer))
    [Console]::Out.Flush()
}

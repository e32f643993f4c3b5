<#
.SYNOPSIS
    Stops VMs unattended (a scheduled task, a systemd unit, cron), for a log that is pure JSON and an exit code that
    says whether every VM stopped gracefully. See about_Castra, "SCHEDULED TASKS".
.EXAMPLE
    pwsh -NonInteractive -NoProfile -File stop-all-vms.ps1 -JsonPath /var/log/castra/shutdown.json
    Every VM under $env:CASTRA_HOME (or ~/.castra); the events go to the file; exit 0 only if all stopped gracefully.
.EXAMPLE
    pwsh -NonInteractive -NoProfile -File stop-all-vms.ps1 web db > events.json
    Named VMs; the events go to standard output, and nothing else does (errors go to standard error).
#>
[CmdletBinding()]
param(
    # VM names or wildcard patterns (separate words, or one comma-separated word: -File passes words as they are); default: every VM.
    [Parameter(Position = 0, ValueFromRemainingArguments)] [string[]] $Name,
    # Write the events here instead of standard output.
    [string] $JsonPath,
    # Default: $env:CASTRA_HOME, else ~/.castra.
    [string] $StateRoot
)

Import-Module Castra -ErrorAction Stop

# Nothing may prompt, and nothing but JSON may reach standard output: under -File, warnings and progress would.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Warnings are kept (-WarningVariable) and written to standard error below, instead of to standard output.
$stop = @{ Reason = 'SystemShutdown'; Force = $true; WarningAction = 'SilentlyContinue'; WarningVariable = 'warnings' }
if ($Name) { $stop.Name = @($Name -split ',' | Where-Object { $_ }) } else { $stop.All = $true }
if ($StateRoot) { $stop.StateRoot = $StateRoot }

$events = [System.Collections.Generic.List[object]]::new()
$failed = $false
try {
    Stop-CastraVm @stop | ForEach-Object { $events.Add($_) }
}
catch {
    # Under -ErrorAction Stop every VM still runs its whole sequence; then one error names every VM that failed.
    $failed = $true
    [Console]::Error.WriteLine($_.ToString())
}

foreach ($warning in $warnings) { [Console]::Error.WriteLine("WARNING: $warning") }

$json = ConvertTo-Json -InputObject @($events) -Depth 2
if ($JsonPath) { Set-Content -LiteralPath $JsonPath -Value $json } else { $json }

$notGraceful = @($events | Where-Object { $_.Type -eq 'ShutdownComplete' -and $_.Outcome -ne 'Graceful' })
if ($failed -or $notGraceful.Count -gt 0) { exit 1 }
exit 0

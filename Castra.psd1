# Castra module manifest. ModuleVersion comes from Directory.Build.props (VersionPrefix): build.ps1 writes it into
# out/Castra/Castra.psd1 and an xUnit test keeps this copy in step.
@{
    RootModule           = 'Castra.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0d6c1e-8f63-4a8e-9a55-0c7f4f0e2c11'
    Author               = 'Castra contributors'
    CompanyName          = 'Castra'
    Copyright            = '(c) Castra contributors.'
    Description          = 'Shut QEMU virtual machines down gracefully, observably and within bounds: one ordered, bounded sequence per VM, a typed event per step.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Castra.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-CastraCleanupHook', 'Get-CastraShutdownStatus', 'Get-CastraVm', 'Get-CastraVmSession', 'Register-CastraCleanupHook',
        'Register-CastraHostShutdown', 'Restart-CastraVm', 'Set-CastraVm', 'Start-CastraVm', 'Start-CastraVmSession', 'Stop-CastraVm',
        'Unregister-CastraCleanupHook', 'Unregister-CastraHostShutdown', 'Wait-CastraVm'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('QEMU', 'KVM', 'VirtualMachine', 'Shutdown', 'Linux')
            ProjectUri = 'https://example.invalid/castra'
        }
    }
}

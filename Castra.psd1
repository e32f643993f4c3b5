# Stub until the PowerShell module lands (issue 4); build.ps1 templates ModuleVersion from Directory.Build.props.
@{
    RootModule           = 'Castra.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0d6c1e-8f63-4a8e-9a55-0c7f4f0e2c11'
    Author               = 'Castra contributors'
    Description          = 'Shut QEMU virtual machines down gracefully, observably and within bounds.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    CmdletsToExport      = @()
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
}

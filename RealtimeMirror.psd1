@{
    RootModule           = 'bin/RealtimeMirror.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b7f3f6e-3f0c-4a57-9d0e-6f4f1b2a9c11'
    Author               = 'RealtimeMirror contributors'
    Description          = 'Keeps backup hosts identical to a busy file server in real time: watch, coalesce, filter, and push rsync-style over SSH.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('bin/RealtimeMirror.Format.ps1xml')
    CmdletsToExport      = @(
        'Register-MirrorTarget', 'Get-MirrorTarget', 'Unregister-MirrorTarget',
        'Sync-MirrorTree',
        'Start-MirrorWatch', 'Get-MirrorWatch', 'Stop-MirrorWatch', 'Get-MirrorEvent', 'Resume-MirrorTarget'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{ PSData = @{ Tags = @('mirror', 'rsync', 'sftp', 'backup', 'sync', 'inotify') } }
}

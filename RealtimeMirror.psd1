@{
    RootModule           = 'bin/RealtimeMirror.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b7f3f6e-3f0c-4a57-9d0e-6f4f1b2a9c11'
    Author               = 'RealtimeMirror contributors'
    Description          = 'Keeps backup hosts identical to a busy file server in real time: watch, coalesce, filter, and push rsync-style over SSH.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('bin/RealtimeMirror.Format.ps1xml')
    TypesToProcess       = @('bin/RealtimeMirror.Types.ps1xml')
    CmdletsToExport      = @(
        'Register-MirrorTarget', 'Get-MirrorTarget', 'Unregister-MirrorTarget',
        'Sync-MirrorTree',
        'Start-MirrorWatch', 'Get-MirrorWatch', 'Stop-MirrorWatch', 'Get-MirrorEvent', 'Resume-MirrorTarget',
        'Get-MirrorVersion', 'Restore-MirrorVersion'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    Copyright            = '(c) 2026 RealtimeMirror contributors. MIT License.'
    PrivateData          = @{
        PSData = @{
            # Tags may not contain spaces (PowerShell Gallery); PSEdition_Core and the platforms let Find-Module filter.
            Tags         = @('mirror', 'rsync', 'sftp', 'ssh', 'backup', 'sync', 'inotify', 'lsyncd', 'PSEdition_Core', 'Linux', 'Windows')
            # Placeholders until the project's public home is settled: replace both with the real repository.
            ProjectUri   = 'https://github.com/RealtimeMirror/RealtimeMirror'
            LicenseUri   = 'https://github.com/RealtimeMirror/RealtimeMirror/blob/main/LICENSE'
            ReleaseNotes = @'
0.1.0: first release. Watch (inotify or FileSystemWatcher), coalesce and filter changes, and push them to local and
SSH replicas (rsync delta transfer or SFTP) in the foreground or as a service; per-target saved settings; status of
services in other processes (Get-MirrorWatch); tab completion of target names and watch Ids; host keys checked by
host with @revoked honoured; passwords never on output objects and the target file private (0600).
'@
        }
    }
}

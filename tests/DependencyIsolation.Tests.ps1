# The module's libraries (SSH.NET, BouncyCastle, Newtonsoft.Json, ...) load into its own AssemblyLoadContext, so a
# module that ships another SSH.NET (Posh-SSH does) works in the same session, imported before or after this one.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest

    # "OtherSsh": a module like Posh-SSH, loading SSH.NET 2024.2.0 and BouncyCastle 2.4.0 into the default context
    # through RequiredAssemblies. The packages come from NuGet through a restore of tests/tools/ConflictingSshNet.csproj.
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $ssh = Join-Path $packages 'ssh.net/2024.2.0/lib/net8.0/Renci.SshNet.dll'
    $bc = Join-Path $packages 'bouncycastle.cryptography/2.4.0/lib/net6.0/BouncyCastle.Cryptography.dll'
    if (-not ((Test-Path $ssh) -and (Test-Path $bc))) {
        dotnet restore "$RepoRoot/tests/tools/ConflictingSshNet.csproj" --nologo -v quiet | Out-Host
        if ($LASTEXITCODE) { throw 'dotnet restore of tests/tools/ConflictingSshNet.csproj failed.' }
    }
    $other = New-Item -ItemType Directory "$root/modules/OtherSsh"
    Copy-Item $ssh, $bc $other
    New-ModuleManifest -Path "$other/OtherSsh.psd1" -RootModule 'OtherSsh.psm1' -RequiredAssemblies 'BouncyCastle.Cryptography.dll', 'Renci.SshNet.dll' -FunctionsToExport 'Get-OtherSshListing'
    # Lists a remote directory over SFTP with ITS SSH.NET, and says which SSH.NET that was.
    Set-Content "$other/OtherSsh.psm1" @'
function Get-OtherSshListing([string] $HostName, [int] $Port, [string] $User, [string] $KeyFile, [string] $Path) {
    $client = [Renci.SshNet.SftpClient]::new($HostName, $Port, $User, [Renci.SshNet.PrivateKeyFile[]]@([Renci.SshNet.PrivateKeyFile]::new($KeyFile)))
    try {
        $client.Connect()
        [pscustomobject]@{
            Version = [Renci.SshNet.SftpClient].Assembly.GetName().Version.ToString()
            Names   = @($client.ListDirectory($Path) | Where-Object Name -notin '.', '..' | ForEach-Object Name | Sort-Object)
        }
    }
    finally { $client.Dispose() }
}
'@

    # A fresh session that imports the two modules in the given order, mirrors over SFTP with ours, lists the replica with
    # the other one's SSH.NET, and reports what it saw and where each SSH.NET was loaded from.
    function Invoke-BothModules([string[]] $Order, [string] $Replica) {
        $imports = @{
            RealtimeMirror = "Import-Module '$RepoRoot/RealtimeMirror.psd1'"
            OtherSsh       = "Import-Module '$root/modules/OtherSsh/OtherSsh.psd1'"
        }
        $script = @"
`$ErrorActionPreference = 'Stop'
`$env:REALTIMEMIRROR_CONFIG = '$env:REALTIMEMIRROR_CONFIG'
$($imports[$Order[0]])
$(if ($Order[0] -eq 'RealtimeMirror') { "`$results = @(Sync-MirrorTree -Path '$root/src' -Target isolated-ssh)" })
$($imports[$Order[1]])
$(if ($Order[0] -ne 'RealtimeMirror') { "`$results = @(Sync-MirrorTree -Path '$root/src' -Target isolated-ssh)" })
`$listing = Get-OtherSshListing -HostName '$env:RTM_SSH_HOST' -Port $env:RTM_SSH_PORT -User '$env:RTM_SSH_USER' -KeyFile '$env:RTM_SSH_KEY' -Path '$Replica'
`$loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'Renci.SshNet' } | ForEach-Object {
    '{0} in {1}' -f `$_.GetName().Version, [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name
}
[pscustomobject]@{
    Results = @(`$results | ForEach-Object { '{0} {1} {2}' -f `$_.Action, `$_.RelativePath, `$_.Transport })
    OtherVersion = `$listing.Version
    OtherListing = `$listing.Names
    Loaded = @(`$loaded | Sort-Object)
} | ConvertTo-Json -Depth 3
"@
        $exe = [Environment]::ProcessPath
        $launch = if ((Split-Path -Leaf $exe) -like 'dotnet*') { @($exe, (Join-Path $PSHOME 'pwsh.dll')) } else { @($exe) }
        $all = $launch + @('-NoProfile', '-NonInteractive', '-Command', $script)
        $out = & $all[0] $all[1..($all.Count - 1)] 2>&1
        if ($LASTEXITCODE) { throw "child pwsh exited with $LASTEXITCODE`: $($out -join "`n")" }
        ($out -join "`n") | ConvertFrom-Json
    }

    New-Item -ItemType Directory "$root/src/sub" -Force | Out-Null
    Set-Content "$root/src/a.txt" 'alpha'
    Set-Content "$root/src/sub/b.txt" 'beta'
}
AfterAll { Remove-MirrorTest }

Describe 'Dependency isolation: another SSH.NET in the same session' {
    It 'mirrors over SFTP after a module with SSH.NET 2024.2 was imported first, and that module still works' {
        Register-TestSshTarget -Name isolated-ssh -RemotePath "$root/replica-first" -Extra @{ Rsync = 'Never'; Force = $true } | Out-Null
        $r = Invoke-BothModules -Order OtherSsh, RealtimeMirror -Replica "$root/replica-first"
        $r.Results | Should -Contain 'Copied a.txt Sftp'
        $r.Results | Should -Contain 'Copied sub/b.txt Sftp'
        Assert-TreesEqual "$root/src" "$root/replica-first"
        $r.OtherVersion | Should -Be '2024.2.0.1'
        $r.OtherListing | Should -Be @('a.txt', 'sub')
        $r.Loaded | Should -Be @('2024.2.0.1 in Default', '2026.0.0.1 in RealtimeMirror')
    }

    It 'lets a module with SSH.NET 2024.2 load and connect after this module has mirrored over SFTP' {
        Register-TestSshTarget -Name isolated-ssh -RemotePath "$root/replica-second" -Extra @{ Rsync = 'Never'; Force = $true } | Out-Null
        $r = Invoke-BothModules -Order RealtimeMirror, OtherSsh -Replica "$root/replica-second"
        $r.Results | Should -Contain 'Copied a.txt Sftp'
        Assert-TreesEqual "$root/src" "$root/replica-second"
        $r.OtherVersion | Should -Be '2024.2.0.1'
        $r.OtherListing | Should -Be @('a.txt', 'sub')
        $r.Loaded | Should -Be @('2024.2.0.1 in Default', '2026.0.0.1 in RealtimeMirror')
    }
}

Describe 'Dependency isolation: what the module loads where' {
    It 'keeps only the cmdlet assembly in the default context; the engine and its libraries come from bin/deps' {
        $alc = [Runtime.Loader.AssemblyLoadContext]
        $mine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.Location -like "$RepoRoot/bin/*" }
        $byName = @{}; foreach ($a in $mine) { $byName[$a.GetName().Name] = $alc::GetLoadContext($a).Name }
        $byName['RealtimeMirror'] | Should -Be 'Default'
        $byName['RealtimeMirror.Engine'] | Should -Be 'RealtimeMirror'
        ($mine | Where-Object { $alc::GetLoadContext($_).Name -eq 'Default' }).GetName().Name | Should -Be 'RealtimeMirror'
        Get-ChildItem "$RepoRoot/bin" -Filter *.dll | ForEach-Object Name | Should -Be 'RealtimeMirror.dll'
        Test-Path "$RepoRoot/bin/deps/Renci.SshNet.dll" | Should -BeTrue
    }

    It 'keeps errno across the load context: a fresh session''s first sync to an existing local replica root works' {
        # The engine's first mkdir of an existing root must see EEXIST, not the ENOENT the context's own loading left.
        New-Item -ItemType Directory "$root/errno-replica" -Force | Out-Null
        Register-MirrorTarget -Name errno-local -Path "$root/errno-replica" -Force | Out-Null
        $r = Invoke-ChildPwsh "@{ R = @(Sync-MirrorTree -Path '$root/src' -Target errno-local -ErrorAction Stop | ForEach-Object { `$_.Action.ToString() + ' ' + `$_.RelativePath }) }"
        @($r.R) | Should -Contain 'Copied a.txt'
        Assert-TreesEqual "$root/src" "$root/errno-replica"
    }

    It 'names the engine''s types in scripts as before (type accelerators)' {
        [RealtimeMirror.Engine.Targets.DeleteMode]::Never | Should -Be 'Never'
        Register-MirrorTarget -Name isolated-local -Path "$root/replica-local" -DeleteMode ([RealtimeMirror.Engine.Targets.DeleteMode]::Never) -Force | Out-Null
        $t = Get-MirrorTarget isolated-local
        $t | Should -BeOfType ([RealtimeMirror.Engine.Targets.MirrorTarget])
        $t.DeleteMode | Should -Be ([RealtimeMirror.Engine.Targets.DeleteMode]::Never)
        (Sync-MirrorTree -Path "$root/src" -Target isolated-local)[0] | Should -BeOfType ([RealtimeMirror.Engine.Results.SyncResult])
    }

    It 'completes and validates enum parameters across the boundary' {
        $c = TabExpansion2 -inputScript 'Start-MirrorWatch -Backend ' -cursorColumn 'Start-MirrorWatch -Backend '.Length
        $c.CompletionMatches.CompletionText | Should -Be @('Auto', 'Fanotify', 'Inotify', 'Portable')
        { Sync-MirrorTree -Path "$root/src" -Target isolated-local -DeleteMode Sometimes } | Should -Throw '*Always, Never, Startup, Running*'
        (Get-Command Register-MirrorTarget).Parameters['Rsync'].ParameterType.FullName | Should -Be 'RealtimeMirror.Engine.Targets.RsyncMode'
    }
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    $src = "$root/src"
    New-OddTree $src
    Register-TestSshTarget -Name ssh -RemotePath "$root/replica-ssh" -Extra @{ Rsync = 'Never' } | Out-Null
    Register-MirrorTarget -Name local -Path "$root/replica-local" | Out-Null
}
AfterAll { Remove-MirrorTest }

Describe 'Sync-MirrorTree: one-shot tree sync' {
    It 'mirrors a tree of awkward names to SSH and local targets: content, mode, mtime and symlinks equal' {
        $results = Sync-MirrorTree -Path $src -Target ssh, local
        Assert-TreesEqual $src "$root/replica-ssh"
        Assert-TreesEqual $src "$root/replica-local"
        $results | Should -Not -BeNullOrEmpty
        $results[0].GetType().Name | Should -Be 'SyncResult'
        ($results | Where-Object { $_.Target -eq 'ssh' -and $_.Action -eq 'Copied' }).Count | Should -BeGreaterThan $OddNames.Count
        $bin = $results | Where-Object { $_.RelativePath -eq 'nested/binary.bin' -and $_.Target -eq 'ssh' }
        $bin.Bytes | Should -Be 10240
        $bin.Transport | Should -Be 'Sftp'
    }

    It 'does nothing on a second run (quick check by size and mtime)' {
        Sync-MirrorTree -Path $src -Target ssh, local | Should -BeNullOrEmpty
        $all = Sync-MirrorTree -Path $src -Target ssh -IncludeSkipped
        $all | Where-Object Action -ne 'Skipped' | Should -BeNullOrEmpty
        $all.RelativePath | Should -Contain 'nested/binary.bin'
        $all.Count | Should -Be @(Get-TreeSignature $src).Count
    }

    It 'updates only metadata for a touched but unchanged file locally (no data sent); over SFTP alone sends it anew' {
        (Get-Item "$src/nested/binary.bin").LastWriteTimeUtc = [datetime]::new(2022, 5, 5, 5, 5, 5, [DateTimeKind]::Utc)
        $r = Sync-MirrorTree -Path $src -Target local
        $r.Action | Should -Be 'MetadataOnly'
        $r.Bytes | Should -Be 0
        # SFTP v3 cannot tell whether the replica's file has other hard links, so it is never changed in place.
        $r = Sync-MirrorTree -Path $src -Target ssh
        $r.Action | Should -Be 'Updated'
        $r.Bytes | Should -Be 10240
        Assert-TreesEqual $src "$root/replica-ssh"
        Assert-TreesEqual $src "$root/replica-local"
    }

    It 'sends a changed file and reports the bytes sent' {
        [IO.File]::WriteAllText("$src/plain.txt", 'changed content, longer than before')
        $r = Sync-MirrorTree -Path $src -Target ssh | Where-Object RelativePath -eq 'plain.txt'
        $r.Action | Should -Be 'Updated'
        $r.Bytes | Should -Be 35
        Get-Content -Raw "$root/replica-ssh/plain.txt" | Should -Be 'changed content, longer than before'
    }

    It 'deletes extraneous replica entries only with -Delete, and never follows a link out of the replica' {
        New-Item -ItemType Directory "$root/replica-ssh/extra dir/sub" -Force | Out-Null
        Set-Content "$root/replica-ssh/extra dir/sub/f" 'x'
        Set-Content "$root/outside-victim.txt" 'must survive'
        New-Item -ItemType SymbolicLink -Path "$root/replica-ssh/escape" -Target "$root/outside-victim.txt" | Out-Null
        # Only the replica root's own time is put back (adding the extras changed it); nothing is deleted.
        Sync-MirrorTree -Path $src -Target ssh | Where-Object RelativePath | Should -BeNullOrEmpty
        Test-Path "$root/replica-ssh/extra dir" | Should -BeTrue

        $r = Sync-MirrorTree -Path $src -Target ssh -Delete
        ($r | Where-Object Action -eq 'Deleted').RelativePath | Sort-Object | Should -Be @('escape', 'extra dir')
        Test-Path "$root/outside-victim.txt" | Should -BeTrue
        Assert-TreesEqual $src "$root/replica-ssh"
    }

    It 'changes nothing with -WhatIf' {
        Set-Content "$src/new-file.txt" 'new'
        Set-Content "$root/replica-ssh/stray.txt" 'stray'
        Sync-MirrorTree -Path $src -Target ssh -Delete -WhatIf | Should -BeNullOrEmpty
        Test-Path "$root/replica-ssh/new-file.txt" | Should -BeFalse
        Test-Path "$root/replica-ssh/stray.txt" | Should -BeTrue
        Remove-Item "$src/new-file.txt", "$root/replica-ssh/stray.txt"
    }

    It 'neither copies nor deletes excluded entries' {
        Set-Content "$src/scratch.tmp" 'tmp'
        New-Item -ItemType Directory "$src/cache" -Force | Out-Null
        Set-Content "$src/cache/big" 'cached'
        Set-Content "$root/replica-ssh/keep-me.tmp" 'replica-only, excluded'
        Sync-MirrorTree -Path $src -Target ssh -Delete -Exclude '*.tmp', 'cache' | Out-Null
        Test-Path "$root/replica-ssh/scratch.tmp" | Should -BeFalse
        Test-Path "$root/replica-ssh/cache" | Should -BeFalse
        Test-Path "$root/replica-ssh/keep-me.tmp" | Should -BeTrue
        Remove-Item "$src/scratch.tmp", "$src/cache" -Recurse
        Remove-Item "$root/replica-ssh/keep-me.tmp"
    }

    It 'replaces an entry whose kind changed: file to directory, link to file' {
        Remove-Item "$src/with space.txt"
        New-Item -ItemType Directory "$src/with space.txt" | Out-Null
        Set-Content "$src/with space.txt/inner" 'inner'
        Remove-Item "$src/link to plain"
        Set-Content "$src/link to plain" 'now a file'
        Sync-MirrorTree -Path $src -Target ssh -Delete | Out-Null
        Assert-TreesEqual $src "$root/replica-ssh"
    }

    It 'takes Path and Target from the pipeline by property name' {
        Set-Content "$src/piped.txt" 'piped'
        $r = [pscustomobject]@{ Path = $src; Target = 'local' } | Sync-MirrorTree -Delete
        $r.RelativePath | Should -Contain 'piped.txt'
        Assert-TreesEqual $src "$root/replica-local"
    }
}

Describe 'Sync-MirrorTree: times outside what SFTP v3 carries' {
    It 'keeps 1965, 2107 and nanoseconds exactly over rsync and a second sync changes nothing; over SFTP alone it settles too' {
        $t = "$root/times-src"
        New-Item -ItemType Directory $t | Out-Null
        1..9 | ForEach-Object { Set-Content "$t/f$_.txt" "file $_" }
        $times = @{
            'f1.txt' = [datetime]::new(1965, 3, 1, 0, 0, 0, [DateTimeKind]::Utc)
            'f2.txt' = [datetime]::new(2107, 3, 1, 0, 0, 0, [DateTimeKind]::Utc)
            'f3.txt' = [datetime]::new(2040, 6, 1, 12, 0, 0, [DateTimeKind]::Utc).AddTicks(1234567)
        }
        foreach ($k in $times.Keys) { [IO.File]::SetLastWriteTimeUtc("$t/$k", $times[$k]) }
        Register-TestSshTarget -Name times-rsync -RemotePath "$root/times-rsync" -Extra @{ Rsync = 'Always' } | Out-Null
        Sync-MirrorTree -LiteralPath $t -Target times-rsync | Out-Null
        foreach ($k in $times.Keys) { [IO.File]::GetLastWriteTimeUtc("$root/times-rsync/$k") | Should -Be $times[$k] -Because $k }
        Sync-MirrorTree -LiteralPath $t -Target times-rsync | Where-Object RelativePath | Should -BeNullOrEmpty
        foreach ($k in $times.Keys) { [IO.File]::GetLastWriteTimeUtc("$root/times-rsync/$k") | Should -Be $times[$k] -Because "$k after a second sync" }
        # A time changed alone (same size and content) is set through rsync too, not clamped by SFTP.
        $earlier = [datetime]::new(1960, 1, 2, 3, 4, 5, [DateTimeKind]::Utc)
        [IO.File]::SetLastWriteTimeUtc("$t/f4.txt", $earlier)
        (Sync-MirrorTree -LiteralPath $t -Target times-rsync | Where-Object RelativePath -eq 'f4.txt').Action | Should -Be 'MetadataOnly'
        [IO.File]::GetLastWriteTimeUtc("$root/times-rsync/f4.txt") | Should -Be $earlier
        # SFTP alone cannot carry them (clamped to 1970-2106), but the mirror settles instead of resetting them at every sync.
        Register-TestSshTarget -Name times-sftp -RemotePath "$root/times-sftp" -Extra @{ Rsync = 'Never' } | Out-Null
        Sync-MirrorTree -LiteralPath $t -Target times-sftp | Out-Null
        Sync-MirrorTree -LiteralPath $t -Target times-sftp | Where-Object RelativePath | Should -BeNullOrEmpty
    }
}

Describe 'Sync-MirrorTree: bad input gives clear errors and the rest of the work is still done' {
    It 'reports a missing source' {
        Sync-MirrorTree -Path "$root/no-such-dir" -Target local -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SourceNotFound*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'reports an unknown target and still syncs the others' {
        Set-Content "$src/after-error.txt" 'x'
        $r = Sync-MirrorTree -Path $src -Target nosuch, local -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetNotFound*'
        $r.RelativePath | Should -Contain 'after-error.txt'
    }

    It 'reports an unreachable host and still syncs the others' {
        Register-TestSshTarget -Name gone -RemotePath "$root/r" -Extra @{ Port = 1; NoConnect = $true } | Out-Null
        Set-Content "$src/after-unreachable.txt" 'x'
        $r = Sync-MirrorTree -Path $src -Target gone, local -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetUnreachable*'
        $r.RelativePath | Should -Contain 'after-unreachable.txt'
    }

    It 'reports an unreadable file and still syncs the rest of the tree: locally, over SFTP and through rsync' {
        Register-TestSshTarget -Name viaRsync -RemotePath "$root/replica-rsync" | Out-Null
        Set-Content "$src/secret.txt" 'x'
        chmod 000 "$src/secret.txt"
        Set-Content "$src/readable.txt" 'x'
        try {
            # Root reads anything, so a root run drops the capabilities that let it (as an admin's backup user lacks them).
            $prefix = if ((id -u) -eq '0') { @('setpriv', '--bounding-set=-dac_override,-dac_read_search', '--') } else { @() }
            $outcome = Invoke-ChildPwsh -Prefix $prefix -Script @"
`$r = Sync-MirrorTree -Path '$src' -Target local, ssh, viaRsync -ErrorVariable err -ErrorAction SilentlyContinue
@{ Synced = @(`$r | ForEach-Object { `$_.Target + ':' + `$_.RelativePath }); Errors = @(`$err | ForEach-Object { `$_.FullyQualifiedErrorId + '|' + `$_.TargetObject }) }
"@
        }
        finally { chmod 600 "$src/secret.txt" }
        $outcome.Errors | Should -HaveCount 3
        $outcome.Errors | Should -BeLike '*secret.txt'
        foreach ($target in 'local', 'ssh', 'viaRsync') {
            $outcome.Synced | Should -Contain "$target`:readable.txt"
            # One error id for the cause, and the error names its target.
            $outcome.Errors | Should -Contain "SyncEntryFailed,RealtimeMirror.Cmdlets.SyncMirrorTreeCommand|$target`:secret.txt"
            $outcome.Synced | Should -Not -Contain "$target`:secret.txt"
        }
        Test-Path "$root/replica-rsync/nested/binary.bin" | Should -BeTrue
    }
}

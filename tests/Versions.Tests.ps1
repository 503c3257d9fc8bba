# Versions on the replica: what the mirror deletes or overwrites is moved into .rtm-versions/STAMP/PATH on the replica
# (local and SFTP rename, rsync --backup-dir), listed with Get-MirrorVersion and put back with Restore-MirrorVersion.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    # The replica equals the source outside its versions area.
    function Assert-MirroredOutsideVersions([string] $Source, [string] $Replica) {
        $a = @(Get-TreeSignature $Source -NoDirectoryTimes)
        $b = @(Get-TreeSignature $Replica -NoDirectoryTimes | Where-Object { $_ -notmatch '^\w\|\.rtm-versions(\||/)' })
        $diff = Compare-Object $a $b
        if ($diff) { throw "Trees differ:`n" + (($diff | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" }) -join "`n") }
        $a.Count | Should -BeGreaterThan 0
    }
    function New-VersionTarget([string] $Name, [string] $Via, [string] $Replica, [hashtable] $Extra = @{}) {
        $Extra = $Extra.Clone()
        if (-not $Extra.ContainsKey('KeepVersions')) { $Extra.KeepVersions = $true }
        switch ($Via) {
            'Local' { Register-MirrorTarget -Name $Name -Path $Replica @Extra | Out-Null }
            'Sftp' { $Extra.Rsync = 'Never'; Register-TestSshTarget -Name $Name -RemotePath $Replica -Extra $Extra | Out-Null }
            'Rsync' { $Extra.Rsync = 'Always'; Register-TestSshTarget -Name $Name -RemotePath $Replica -Extra $Extra | Out-Null }
        }
    }
    function Get-Sha([string] $Path) { (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash }
}
AfterAll {
    Get-MirrorWatch | Stop-MirrorWatch
    Remove-MirrorTest
}

Describe 'Versions kept by the service' {
    It 'keeps what the service deletes and overwrites over <Via>, lists it, and restores it to the source and elsewhere' -ForEach @(
        @{ Via = 'Local' }, @{ Via = 'Sftp' }, @{ Via = 'Rsync' }
    ) {
        $name = "svc-$($Via.ToLower())"
        $src = "$root/$name"
        $dst = "$root/$name-replica"
        New-Item -ItemType Directory "$src/docs" -Force | Out-Null
        $big = [byte[]]::new(200000); [Random]::new(13).NextBytes($big)
        [IO.File]::WriteAllBytes("$src/big.bin", $big)
        [IO.File]::WriteAllText("$src/docs/report.txt", 'first draft')
        [IO.File]::SetUnixFileMode("$src/docs/report.txt", [IO.UnixFileMode]'UserRead, UserWrite, GroupRead')   # 0640
        [IO.File]::SetLastWriteTimeUtc("$src/docs/report.txt", [datetime]::new(2024, 1, 2, 3, 4, 5, [DateTimeKind]::Utc))
        [IO.File]::WriteAllText("$src/gone.txt", 'to be deleted')
        $oldBig = Get-Sha "$src/big.bin"
        New-VersionTarget $name $Via $dst
        $w = Start-MirrorWatch $src -Target $name -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' -and (Test-Path "$dst/gone.txt") } -Because 'the initial sync'
            Test-Path "$dst/.rtm-versions" | Should -BeFalse   # nothing replaced yet
            [IO.File]::WriteAllText("$src/docs/report.txt", 'second draft, longer')
            $big[100000] = $big[100000] -bxor 0xff
            [IO.File]::WriteAllBytes("$src/big.bin", $big)
            Remove-Item "$src/gone.txt"
            Wait-Until {
                -not (Test-Path "$dst/gone.txt") -and [IO.File]::ReadAllText("$dst/docs/report.txt") -eq 'second draft, longer' -and
                (Get-Sha "$dst/big.bin") -eq (Get-Sha "$src/big.bin")
            } -Because 'the changes on the replica'

            $versions = @(Get-MirrorVersion -Target $name)
            $versions[0] | Should -BeOfType ([RealtimeMirror.Engine.Versions.MirrorVersion])
            @($versions.Path | Sort-Object) | Should -Be @('big.bin', 'docs/report.txt', 'gone.txt')
            ($versions | Where-Object Path -eq 'gone.txt').Size | Should -Be 13
            ($versions | Where-Object Path -eq 'gone.txt').SourcePath | Should -Be "$src/gone.txt"
            $report = $versions | Where-Object Path -eq 'docs/report.txt'
            $report.Mode | Should -Be '0640'
            $report.LastWriteTimeUtc | Should -Be ([datetime]::new(2024, 1, 2, 3, 4, 5, [DateTimeKind]::Utc))
            # Moved there, never copied: the replica holds each old one under its stamp, byte for byte.
            Get-Sha "$dst/$(($versions | Where-Object Path -eq 'big.bin').VersionPath)" | Should -Be $oldBig
            (Get-MirrorVersion -Target $name | Out-String) | Should -BeLike '*Time*docs/report.txt*'

            # To the source: the service mirrors the restored file again.
            $restored = Get-MirrorVersion -Target $name -Path gone.txt | Restore-MirrorVersion
            $restored.Action | Should -Be 'Restored'
            $restored.Path | Should -Be "$src/gone.txt"
            [IO.File]::ReadAllText("$src/gone.txt") | Should -Be 'to be deleted'
            Wait-Until { Test-Path "$dst/gone.txt" } -Because 'the restored file mirrored again'

            # Elsewhere, by path (the newest version), with its metadata.
            Restore-MirrorVersion -Target $name -Path docs/report.txt -Destination "$root/$name-restored" | Out-Null
            [IO.File]::ReadAllText("$root/$name-restored/docs/report.txt") | Should -Be 'first draft'
            [IO.File]::GetLastWriteTimeUtc("$root/$name-restored/docs/report.txt") | Should -Be ([datetime]::new(2024, 1, 2, 3, 4, 5, [DateTimeKind]::Utc))
            [IO.File]::GetUnixFileMode("$root/$name-restored/docs/report.txt") | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite, GroupRead')
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' -and (Get-MirrorWatch -Id $w.Id).Targets[0].QueueLength -eq 0 } -Because 'an idle target'
        }
        finally { $w | Stop-MirrorWatch }
        Assert-MirroredOutsideVersions $src $dst
    }

    It 'keeps the versions of each root in its own replica subdirectory when several roots share a target, and restores to the right root' {
        $one = "$root/multi/one"; $two = "$root/multi/two"
        New-Item -ItemType Directory $one, $two -Force | Out-Null
        [IO.File]::WriteAllText("$one/same.txt", 'from one')
        [IO.File]::WriteAllText("$two/same.txt", 'from two')
        # (An emptied root would halt the target: each keeps a file.)
        [IO.File]::WriteAllText("$one/stays.txt", 'stays'); [IO.File]::WriteAllText("$two/stays.txt", 'stays')
        New-VersionTarget 'multi' 'Sftp' "$root/multi-replica"
        $w = Start-MirrorWatch $one, $two -Target multi -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' -and (Test-Path "$root/multi-replica/two/same.txt") } -Because 'the initial sync'
            Remove-Item "$one/same.txt", "$two/same.txt"
            Wait-Until { -not (Test-Path "$root/multi-replica/one/same.txt") -and -not (Test-Path "$root/multi-replica/two/same.txt") } -Because 'the deletes'
            $v = @(Get-MirrorVersion -Target multi | Sort-Object Subdirectory)
            @($v.Subdirectory) | Should -Be @('one', 'two')
            @($v.Path) | Should -Be @('same.txt', 'same.txt')
            Test-Path "$root/multi-replica/.rtm-versions" | Should -BeFalse   # each root's own area, inside its subdirectory
            $v | Restore-MirrorVersion | Out-Null
            [IO.File]::ReadAllText("$one/same.txt") | Should -Be 'from one'
            [IO.File]::ReadAllText("$two/same.txt") | Should -Be 'from two'
            Wait-Until { (Test-Path "$root/multi-replica/one/same.txt") -and (Test-Path "$root/multi-replica/two/same.txt") } -Because 'the restored files mirrored again'
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'prunes versions past a short retention in the background' {
        $src = "$root/prune-age"
        New-Item -ItemType Directory $src | Out-Null
        [IO.File]::WriteAllText("$src/a.txt", 'v1')
        New-VersionTarget 'prune-age' 'Local' "$root/prune-age-replica" @{ VersionRetention = '2s' }
        (Get-MirrorTarget prune-age).VersionRetention | Should -Be '2s'
        $w = Start-MirrorWatch $src -Target prune-age -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' -and (Test-Path "$root/prune-age-replica/a.txt") } -Because 'the initial sync'
            [IO.File]::WriteAllText("$src/a.txt", 'v2 longer')
            Wait-Until { @(Get-MirrorVersion -Target prune-age).Count -eq 1 } -Because 'the first version'
            Start-Sleep -Seconds 3
            [IO.File]::WriteAllText("$src/a.txt", 'v3 longer still')
            Wait-Until { $v = @(Get-MirrorVersion -Target prune-age); $v.Count -eq 1 -and [IO.File]::ReadAllText("$root/prune-age-replica/$($v[0].VersionPath)") -eq 'v2 longer' } -Because 'the old stamp pruned, the new one kept'
        }
        finally { $w | Stop-MirrorWatch }
    }
}

Describe 'Versions kept by Sync-MirrorTree' {
    It 'keeps at most -VersionCount versions of a path, the newest' {
        $src = "$root/count"
        New-Item -ItemType Directory $src | Out-Null
        New-VersionTarget 'count' 'Sftp' "$root/count-replica" @{ VersionCount = 2 }
        foreach ($i in 1..4) {
            [IO.File]::WriteAllText("$src/a.txt", "version $i" + ('.' * $i))
            Sync-MirrorTree $src -Target count | Out-Null
        }
        $v = @(Get-MirrorVersion -Target count -Path a.txt)
        $v.Count | Should -Be 2
        $v[0].Time | Should -BeGreaterThan $v[1].Time
        [IO.File]::ReadAllText("$root/count-replica/$($v[0].VersionPath)") | Should -Be 'version 3...'
        [IO.File]::ReadAllText("$root/count-replica/$($v[1].VersionPath)") | Should -Be 'version 2..'
        @(Get-ChildItem "$root/count-replica/.rtm-versions").Count | Should -Be 2   # emptied stamps are gone
        # -Since keeps only the newer one.
        @(Get-MirrorVersion -Target count -Since $v[0].Time).Count | Should -Be 1
        Assert-MirroredOutsideVersions $src "$root/count-replica"
    }

    It 'never mirrors, deletes or reports the reserved area, even on a target that keeps no versions' {
        $src = "$root/reserved"
        $dst = "$root/reserved-replica"
        New-Item -ItemType Directory "$src/.rtm-versions", "$src/deep/.rtm-versions", "$dst/.rtm-versions/20200101T000000.000Z" -Force | Out-Null
        [IO.File]::WriteAllText("$src/.rtm-versions/mine.txt", 'source file with a reserved name')
        [IO.File]::WriteAllText("$src/deep/.rtm-versions/ok.txt", 'only the root one is reserved')
        [IO.File]::WriteAllText("$dst/.rtm-versions/20200101T000000.000Z/old.txt", 'kept earlier')
        [IO.File]::WriteAllText("$src/a.txt", 'a')
        Register-MirrorTarget -Name reserved -Path $dst | Out-Null
        $results = @(Sync-MirrorTree $src -Target reserved -Delete)
        @($results | Where-Object RelativePath -like '.rtm-versions*').Count | Should -Be 0
        [IO.File]::ReadAllText("$dst/.rtm-versions/20200101T000000.000Z/old.txt") | Should -Be 'kept earlier'
        Test-Path "$dst/.rtm-versions/mine.txt" | Should -BeFalse
        [IO.File]::ReadAllText("$dst/deep/.rtm-versions/ok.txt") | Should -Be 'only the root one is reserved'
        @(Get-MirrorVersion -Target reserved).Path | Should -Be 'old.txt'
    }

    It 'refuses a bad retention, and a retention or count alone turns versions on' {
        { Register-MirrorTarget -Name bad -Path "$root/bad" -VersionRetention soon } | Should -Throw -ErrorId 'ParameterArgumentValidationError,RealtimeMirror.Cmdlets.RegisterMirrorTargetCommand'
        $t = Register-MirrorTarget -Name twelve -Path "$root/twelve" -VersionRetention 12h
        $t.KeepVersions | Should -BeTrue
        (Get-Content -Raw $env:REALTIMEMIRROR_CONFIG | ConvertFrom-Json | Where-Object Name -eq twelve).VersionRetention | Should -Be '12h'
        (Register-MirrorTarget -Name three -Path "$root/three" -VersionCount 3).KeepVersions | Should -BeTrue
        (Register-MirrorTarget -Name none -Path "$root/none").KeepVersions | Should -BeFalse
    }
}

Describe 'Restore-MirrorVersion' {
    BeforeAll {
        # A replica with a version in it that no sync of this module recorded a source for.
        $dst = "$root/unknown-replica"
        New-Item -ItemType Directory "$dst/.rtm-versions/20260101T000000.000Z/sub" -Force | Out-Null
        [IO.File]::WriteAllText("$dst/.rtm-versions/20260101T000000.000Z/sub/x.txt", 'from the past')
        Register-MirrorTarget -Name unknown -Path $dst | Out-Null
    }

    It 'asks for -Destination when the target does not know its source' {
        Get-MirrorVersion -Target unknown | Restore-MirrorVersion -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'VersionSourceUnknown*'
        $r = Get-MirrorVersion -Target unknown | Restore-MirrorVersion -Destination "$root/unknown-out"
        $r.Action | Should -Be 'Restored'
        [IO.File]::ReadAllText("$root/unknown-out/sub/x.txt") | Should -Be 'from the past'
    }

    It 'changes nothing with -WhatIf' {
        Get-MirrorVersion -Target unknown | Restore-MirrorVersion -Destination "$root/whatif-out" -WhatIf
        Test-Path "$root/whatif-out" | Should -BeFalse
    }

    It 'binds targets by property name and reports unknown targets and versions' {
        @(Get-MirrorTarget unknown | Get-MirrorVersion).Path | Should -Be 'sub/x.txt'
        @(Get-MirrorVersion -Target 'unkn*').Count | Should -Be 1
        Get-MirrorVersion -Target no-such -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetNotFound*'
        Restore-MirrorVersion -Target unknown -Path sub/nothing.txt -Destination "$root/x" -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'VersionNotFound*'
        Restore-MirrorVersion -Target unknown -Path sub/x.txt -Time ([datetime]::new(2025, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)) -Destination "$root/x" -ErrorVariable err3 -ErrorAction SilentlyContinue
        $err3[0].FullyQualifiedErrorId | Should -BeLike 'VersionNotFound*'
        (Restore-MirrorVersion -Target unknown -Path sub/x.txt -Time ([datetime]::new(2026, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)) -Destination "$root/y").Action | Should -Be 'Restored'
    }
}

# The sync-core issue at the cmdlet level: events only hint, one planner decides, nothing is lost or written outside.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    function New-Src([string] $Name) { $d = "$root/$Name"; New-Item -ItemType Directory $d -Force | Out-Null; $d }
    function Register-Local([string] $Name) { Register-MirrorTarget -Name $Name -Path "$root/$Name-replica" | Out-Null; "$root/$Name-replica" }
}
AfterAll {
    Get-MirrorWatch | Stop-MirrorWatch
    Remove-MirrorTest
}

Describe 'Events piped into Sync-MirrorTree' {
    It 'bind as events, live or deserialized, and -Delete is refused with them' {
        $src = New-Src 'ev'
        $replica = Register-Local 'ev'
        Set-Content "$src/keep.txt" 'keep'
        Sync-MirrorTree -Path $src -Target ev | Out-Null
        Set-Content "$replica/extra.txt" 'only on the replica'
        $w = Start-MirrorWatch $src -SettleMilliseconds 50
        try {
            Start-Sleep -Milliseconds 200
            Set-Content "$src/new.txt" 'new'
            $events = @(Get-MirrorEvent -Watch $w -Timeout 1.5)
        }
        finally { $w | Stop-MirrorWatch }
        $events.Count | Should -BeGreaterThan 0
        { $events | Sync-MirrorTree -Target ev -Delete -ErrorAction Stop } | Should -Throw -ErrorId 'DeleteWithEvents*'
        $events | Export-Clixml "$root/events.xml"
        Import-Clixml "$root/events.xml" | Sync-MirrorTree -Target ev | Out-Null
        Get-Content "$replica/new.txt" | Should -Be 'new'
        # An event is never a tree: nothing landed at the replica root by mistake, nothing extraneous was deleted.
        Test-Path "$replica/extra.txt" | Should -BeTrue
        Test-Path "$replica/keep.txt" | Should -BeTrue
    }
}

Describe 'Sync-MirrorTree -WhatIf' {
    It 'plans nested new directories and changes nothing, without errors' {
        $src = New-Src 'whatif'
        $replica = Register-Local 'whatif'
        New-Item -ItemType Directory "$src/a b/c/d" -Force | Out-Null
        Set-Content "$src/a b/c/d/f.txt" 'x'
        $out = Sync-MirrorTree -Path $src -Target whatif -WhatIf -ErrorVariable err
        $err | Should -BeNullOrEmpty
        $out | Should -BeNullOrEmpty
        @(Get-ChildItem -Force $replica -ErrorAction SilentlyContinue).Count | Should -Be 0
    }
}

Describe 'Directories from the pipeline' {
    It 'mirror each under its own name, so -Delete cannot erase one with another' {
        $parent = New-Src 'gci'
        $replica = Register-Local 'gci'
        foreach ($d in 'one', 'two') { New-Item -ItemType Directory "$parent/$d" | Out-Null; Set-Content "$parent/$d/$d.txt" $d }
        Get-ChildItem -Directory $parent | Sync-MirrorTree -Target gci -Delete | Out-Null
        Get-Content "$replica/one/one.txt" | Should -Be 'one'
        Get-Content "$replica/two/two.txt" | Should -Be 'two'
    }

    It 'a file as the source is reported as a file' {
        $src = New-Src 'file-src'
        Set-Content "$src/f.txt" 'x'
        Register-Local 'file-src' | Out-Null
        Sync-MirrorTree -Path "$src/f.txt" -Target file-src -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Message | Should -BeLike '*is a file*'
    }
}

Describe 'Overlapping source and target' {
    It 'refuses a local target inside the source, before anything is written' {
        $src = New-Src 'overlap'
        Set-Content "$src/f.txt" 'x'
        Register-MirrorTarget -Name inside -Path "$src/backup" | Out-Null
        Sync-MirrorTree -Path $src -Target inside -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetOverlapsSource*'
        Test-Path "$src/backup/f.txt" | Should -BeFalse
    }
}

Describe 'A source directory that cannot be listed: local, SFTP and rsync targets' {
    BeforeAll {
        # Root lists anything, so a root run drops the capabilities that let it (as an admin's backup user lacks them).
        $script:NoDacPrefix = if ((id -u) -eq '0') { @('setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search', '--') } else { @() }
        function Register-Kind([string] $Name, [string] $Kind) {
            switch ($Kind) {
                'local' { Register-Local $Name }
                default { Register-TestSshTarget -Name $Name -RemotePath "$root/$Name-replica" -Extra @{ Rsync = $(if ($Kind -eq 'rsync') { 'Always' } else { 'Never' }) } | Out-Null; "$root/$Name-replica" }
            }
        }
        # A source with locked/f1..f5.txt mirrored once to a fresh target of that kind; returns the source and replica.
        function New-MirroredLockedTree([string] $Name, [string] $Kind, [switch] $WithGoneFile) {
            $src = New-Src $Name
            $replica = Register-Kind $Name $Kind
            New-Item -ItemType Directory "$src/locked" | Out-Null
            1..5 | ForEach-Object { Set-Content "$src/locked/f$_.txt" $_ }
            if ($WithGoneFile) { Set-Content "$src/gone.txt" 'x' }
            Sync-MirrorTree -Path $src -Target $Name | Out-Null
            $src, $replica
        }
    }

    It 'a one-shot -Delete sync keeps its replica copy (no deletes below it) and says so: <Kind>' -TestCases @(
        @{ Kind = 'local' }, @{ Kind = 'sftp' }, @{ Kind = 'rsync' }
    ) {
        param($Kind)
        $name = "unlistable-$Kind"
        $src, $replica = New-MirroredLockedTree $name $Kind -WithGoneFile
        Remove-Item "$src/gone.txt"
        chmod 000 "$src/locked"
        try {
            $outcome = Invoke-ChildPwsh -Prefix $script:NoDacPrefix -Script @"
`$r = Sync-MirrorTree -Path '$src' -Target $name -Delete -ErrorVariable err -ErrorAction SilentlyContinue
@{ Deleted = @(`$r | Where-Object Action -eq 'Deleted' | ForEach-Object RelativePath); Errors = @(`$err | ForEach-Object { `$_.FullyQualifiedErrorId + '|' + `$_.TargetObject + '|' + `$_.Exception.Message }) }
"@
        }
        finally { chmod 755 "$src/locked" }
        @($outcome.Deleted) | Should -Not -Contain 'locked'
        @($outcome.Deleted | Where-Object { $_ -like 'locked/*' }) | Should -BeNullOrEmpty
        ($outcome.Errors -join "`n") | Should -BeLike '*locked*'
        @(Get-ChildItem "$replica/locked").Count | Should -Be 5
        # The rest of the work is still done: what the source confirms gone is gone.
        Test-Path "$replica/gone.txt" | Should -BeFalse
    }

    It 'the service started on a tree with an unlistable directory keeps its replica copy: <Kind>' -TestCases @(
        @{ Kind = 'local' }, @{ Kind = 'rsync' }
    ) {
        param($Kind)
        $name = "unlistable-svc-$Kind"
        $src, $replica = New-MirroredLockedTree $name $Kind
        chmod 000 "$src/locked"
        try {
            # The service's initial sync (a whole-tree compare with deletes) in a child without the capabilities.
            $outcome = Invoke-ChildPwsh -Prefix $script:NoDacPrefix -Script @"
`$w = Start-MirrorWatch '$src' -Target $name -InitialSync
`$deadline = [DateTime]::UtcNow.AddSeconds(20)
while ([DateTime]::UtcNow -lt `$deadline -and -not ((Get-MirrorWatch -Id `$w.Id).Targets[0].Errors -gt 0)) { Start-Sleep -Milliseconds 100 }
`$t = (Get-MirrorWatch -Id `$w.Id).Targets[0]
`$w | Stop-MirrorWatch
@{ Errors = `$t.Errors; LastError = `$t.LastError }
"@
        }
        finally { chmod 755 "$src/locked" }
        $outcome.Errors | Should -BeGreaterThan 0
        $outcome.LastError | Should -Not -BeNullOrEmpty
        @(Get-ChildItem "$replica/locked").Count | Should -Be 5
    }
}

Describe 'Service mode, adversarial' {
    It 'mirrors a file written more often than the settle window within the maximum delay' {
        $src = New-Src 'hot'
        $replica = Register-Local 'hot'
        $w = Start-MirrorWatch $src -Target hot -InitialSync -SettleMilliseconds 50 -MaxDelayMilliseconds 500
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -Because 'the initial sync'
            $log = [IO.File]::AppendText("$src/hot.log")
            try {
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $seen = $false
                while ($clock.Elapsed.TotalSeconds -lt 4) {
                    $log.WriteLine("line $($clock.ElapsedMilliseconds)"); $log.Flush()
                    if (-not $seen -and (Test-Path "$replica/hot.log") -and (Get-Item "$replica/hot.log").Length -gt 0) { $seen = $clock.Elapsed.TotalSeconds }
                    Start-Sleep -Milliseconds 20
                }
            }
            finally { $log.Dispose() }
            $seen | Should -BeGreaterThan 0
            $seen | Should -BeLessThan 3
            Wait-Until { (Get-FileHash "$replica/hot.log").Hash -eq (Get-FileHash "$src/hot.log").Hash } -Because 'the final content once writes stop'
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'mirrors several roots to one target, each into its own subdirectory, and refuses a name clash' {
        $a = New-Src 'roots/a/data'
        $b = New-Src 'roots/b/logs'
        $replica = Register-Local 'roots'
        Set-Content "$a/same.txt" 'from a'
        Set-Content "$b/same.txt" 'from b'
        $w = Start-MirrorWatch $a, $b -Target roots -InitialSync
        try {
            Wait-Until { (Test-Path "$replica/data/same.txt") -and (Test-Path "$replica/logs/same.txt") } -Because 'both roots'
            Get-Content "$replica/data/same.txt" | Should -Be 'from a'
            Get-Content "$replica/logs/same.txt" | Should -Be 'from b'
        }
        finally { $w | Stop-MirrorWatch }
        $c = New-Src 'roots/c/data'
        { Start-MirrorWatch $a, $c -Target roots -ErrorAction Stop } | Should -Throw -ErrorId 'SourceNameClash*'
    }

    It 'turns Faulted when the root is removed, deletes nothing meanwhile, and resumes when it is back (<Backend>)' -ForEach @(
        @{ Backend = 'Auto' }, @{ Backend = 'Inotify' }
    ) {
        $src = New-Src "vanish-$Backend"
        $replica = Register-Local "vanish-$Backend"
        Set-Content "$src/f.txt" 'x'
        $w = Start-MirrorWatch $src -Target "vanish-$Backend" -InitialSync -SettleMilliseconds 50 -Backend $Backend
        try {
            Wait-Until { Test-Path "$replica/f.txt" } -Because 'the initial sync'
            Remove-Item -Recurse -Force $src
            Wait-Until { (Get-MirrorWatch -Id $w.Id).State -eq 'Faulted' } -Because 'the watch to say the root is gone'
            (Get-MirrorWatch -Id $w.Id).LastError | Should -BeLike '*missing*'
            Start-Sleep -Milliseconds 500
            Test-Path "$replica/f.txt" | Should -BeTrue
            New-Item -ItemType Directory $src | Out-Null
            Set-Content "$src/g.txt" 'back'
            Wait-Until { (Get-MirrorWatch -Id $w.Id).State -eq 'Running' } -Because 'the watch to resume'
            Wait-Until { (Test-Path "$replica/g.txt") -and -not (Test-Path "$replica/f.txt") } -Because 'a compare of the new root'
        }
        finally { $w | Stop-MirrorWatch }
    }
}

Describe 'Confinement through the service: local, SFTP and rsync targets' {
    BeforeAll {
        $src = New-Src 'attack'
        Register-MirrorTarget -Name atk-local -Path "$root/atk-local" | Out-Null
        Register-TestSshTarget -Name atk-sftp -RemotePath "$root/atk-sftp" -Extra @{ Rsync = 'Never' } | Out-Null
        Register-TestSshTarget -Name atk-rsync -RemotePath "$root/atk-rsync" -Extra @{ Rsync = 'Always' } | Out-Null
        $replicas = 'atk-local', 'atk-sftp', 'atk-rsync' | ForEach-Object { "$root/$_" }
        $victim = "$root/victim"
        New-Item -ItemType Directory "$victim" | Out-Null
        Set-Content "$victim/passwd" 'root:x:0:0'
        chmod 700 $victim
        New-Item -ItemType Directory "$src/eve/d" -Force | Out-Null
        Set-Content "$src/eve/d/x" 'x'
        Set-Content "$root/secret" 'not for the backup'
        $w = Start-MirrorWatch $src -Target atk-local, atk-sftp, atk-rsync -InitialSync -SettleMilliseconds 50
        Wait-Until { @($replicas | Where-Object { Test-Path "$_/eve/d/x" }).Count -eq 3 } -Because 'the initial sync'
    }
    AfterAll { $w | Stop-MirrorWatch }

    It 'a directory turned into a symlink and back never makes the mirror write outside the replica' {
        Remove-Item -Recurse -Force "$src/eve/d"
        New-Item -ItemType SymbolicLink -Path "$src/eve/d" -Target $victim | Out-Null
        1..5 | ForEach-Object { Set-Content "$src/eve/other$_" $_ }
        Wait-Until { @($replicas | Where-Object { (Get-Item "$_/eve/d" -ErrorAction SilentlyContinue).LinkTarget -eq $victim }).Count -eq 3 } -Because 'the link on every replica'
        Remove-Item "$src/eve/d"
        New-Item -ItemType Directory "$src/eve/d" | Out-Null
        Set-Content "$src/eve/d/passwd" 'eve::0:0'
        # Test-Path follows the replica's old link into the victim; the link may be gone before Get-Item looks.
        Wait-Until { @($replicas | Where-Object { (Test-Path "$_/eve/d/passwd") -and ($d = Get-Item "$_/eve/d" -ErrorAction SilentlyContinue) -and -not $d.LinkTarget }).Count -eq 3 } -Because 'the directory back on every replica'
        Get-Content "$victim/passwd" | Should -Be 'root:x:0:0'
        (stat -c %a $victim) | Should -Be '700'
        foreach ($r in $replicas) { Get-Content "$r/eve/d/passwd" | Should -Be 'eve::0:0' }
    }

    It 'a file swapped for a symlink on the source is mirrored as that symlink, never as the target''s content' {
        Set-Content "$src/report" 'public'
        Wait-Until { @($replicas | Where-Object { Test-Path "$_/report" }).Count -eq 3 } -Because 'the file'
        Remove-Item "$src/report"
        New-Item -ItemType SymbolicLink -Path "$src/report" -Target "$root/secret" | Out-Null
        Wait-Until { @($replicas | Where-Object { (Get-Item "$_/report" -ErrorAction SilentlyContinue).LinkTarget -eq "$root/secret" }).Count -eq 3 } -Because 'the link'
    }

    It 'a symlink planted in a replica is never written through' {
        foreach ($r in $replicas) { Remove-Item -Recurse -Force "$r/eve/d"; New-Item -ItemType SymbolicLink -Path "$r/eve/d" -Target $victim | Out-Null }
        Set-Content "$src/eve/d/passwd" 'eve::1:1'
        Set-Content "$src/eve/d/new" 'new'
        # The next compare replaces the planted links with directories; nothing lands in the victim meanwhile.
        Wait-Until { @($replicas | Where-Object { (Test-Path "$_/eve/d/new") -and -not (Get-Item "$_/eve/d" -ErrorAction SilentlyContinue).LinkTarget }).Count -eq 3 } -TimeoutSeconds 30 -Because 'the planted links replaced'
        Get-Content "$victim/passwd" | Should -Be 'root:x:0:0'
        Test-Path "$victim/new" | Should -BeFalse
        (stat -c %a $victim) | Should -Be '700'
    }
}

Describe 'Names that are bytes: local, SFTP and rsync targets' {
    BeforeAll {
        $src = New-Src 'names'
        Register-MirrorTarget -Name nm-local -Path "$root/nm-local" | Out-Null
        Register-TestSshTarget -Name nm-sftp -RemotePath "$root/nm-sftp" -Extra @{ Rsync = 'Never' } | Out-Null
        Register-TestSshTarget -Name nm-rsync -RemotePath "$root/nm-rsync" -Extra @{ Rsync = 'Always' } | Out-Null
        $targets = 'nm-local', 'nm-sftp', 'nm-rsync'
        # rsync itself is the judge: it compares names as bytes, content, mode and times.
        function Get-Diff([string] $Replica) { @(rsync -naic --delete "$src/" "$Replica/") }
        $long = 'L' * 251 + '.txt'  # 255 bytes
        bash -c "cd '$src' && mkdir \"r`$(printf '\xe9')sum`$(printf '\xe9')s\" && echo latin1 > \"caf`$(printf '\xe9').txt\" && echo utf8 > \"caf`$(printf '\xc3\xa9').txt\" && echo x > \"r`$(printf '\xe9')sum`$(printf '\xe9')s/cv\" && ln -s \"t`$(printf '\xff')rget\" link && echo long > $long"
    }

    It 'one-shot syncs mirror them byte for byte, and a second -Delete sync keeps them' {
        Sync-MirrorTree -Path $src -Target $targets -Delete -ErrorVariable err | Out-Null
        $err | Should -BeNullOrEmpty
        foreach ($t in $targets) { Get-Diff "$root/$t" | Should -BeNullOrEmpty }
        $again = Sync-MirrorTree -Path $src -Target $targets -Delete
        $again | Where-Object Action -eq 'Deleted' | Should -BeNullOrEmpty
        foreach ($t in $targets) { Get-Diff "$root/$t" | Should -BeNullOrEmpty }
    }

    It 'the service mirrors them created, renamed and deleted live' {
        $w = Start-MirrorWatch $src -Target $targets -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { @($targets | Where-Object { (Get-Diff "$root/$_").Count -eq 0 }).Count -eq 3 } -Because 'the initial sync'
            bash -c "cd '$src' && echo new > \"n`$(printf '\xe9\xff\x80')w\" && mv \"caf`$(printf '\xe9').txt\" \"caf`$(printf '\xe8').txt\" && rm \"r`$(printf '\xe9')sum`$(printf '\xe9')s/cv\" && mv $long M$('L' * 250).txt"
            Wait-Until { @($targets | Where-Object { (Get-Diff "$root/$_").Count -eq 0 }).Count -eq 3 } -TimeoutSeconds 30 -Because 'the live changes on every replica'
        }
        finally { $w | Stop-MirrorWatch }
    }
}

# Running for months: saved per-target settings, timeouts against a frozen host, Ctrl+C mid-transfer, stale temp files,
# and per-entry failures (disk full, immutable directory, sshd gone mid initial sync) that heal without a restart.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest

    function New-Src([string] $Name) { $d = "$root/$Name"; New-Item -ItemType Directory $d -Force | Out-Null; $d }
    function Get-State($Watch) { (Get-MirrorWatch -Id $Watch.Id).Targets[0] }

    # A second loopback sshd with the main one's keys, on its own port, that a test may freeze or kill.
    function Start-SecondSshd([int] $Port) {
        $state = "$root/sshd-$Port"
        New-Item -ItemType Directory $state -Force | Out-Null
        $main = Split-Path $env:RTM_SSH_KEY -Parent
        Copy-Item "$main/host_ed25519*", "$main/client_ed25519*" $state
        $env:RTM_SSHD_STATE = $state; $env:RTM_SSHD_PORT = $Port
        try { bash "$RepoRoot/tests/sshd/start-test-sshd.sh" | Out-Null }
        finally { Remove-Item env:RTM_SSHD_STATE, env:RTM_SSHD_PORT }
        $state
    }
    # Signals the listener and every session process (and their rsync) of that sshd.
    function Send-SshdSignal([string] $State, [string] $Signal) {
        bash -c "desc() { for c in `$(pgrep -P `$1); do echo `$c; desc `$c; done; }; p=`$(cat '$State/sshd.pid'); kill -$Signal `$p `$(desc `$p) 2>/dev/null; true"
    }
    # Kills the listener and its sessions, as a crash would. Only sshd itself: a shell a session runs (the login
    # shell's rc files, rsync) sees its connection gone and ends on its own, so nothing it holds (a lock file of the
    # machine's shell setup, say) is left behind for every later login to wait on.
    function Stop-SecondSshd([string] $State) {
        if (-not (Test-Path "$State/sshd.pid")) { return }
        Send-SshdSignal $State CONT
        bash -c "desc() { for c in `$(pgrep -P `$1); do echo `$c; desc `$c; done; }; p=`$(cat '$State/sshd.pid'); for c in `$p `$(desc `$p); do case `$(cat /proc/`$c/comm 2>/dev/null) in sshd*) kill -KILL `$c 2>/dev/null;; esac; done; true"
        Remove-Item "$State/sshd.pid" -ErrorAction SilentlyContinue
    }
    function Register-SecondTarget([string] $Name, [int] $Port, [string] $RemotePath, [hashtable] $Extra = @{}) {
        $p = @{ Port = $Port; KnownHostsFile = "$root/sshd-$Port/known_hosts" }
        foreach ($k in $Extra.Keys) { $p[$k] = $Extra[$k] }
        Register-TestSshTarget -Name $Name -RemotePath $RemotePath -Extra $p
    }
}
AfterAll {
    Get-MirrorWatch | Stop-MirrorWatch
    foreach ($s in Get-ChildItem "$root/sshd-*" -Directory -ErrorAction SilentlyContinue) { Stop-SecondSshd $s.FullName }
    Remove-MirrorTest
}

Describe 'Saved settings' {
    It 'keeps every setting in targets.json and shows it with Get-MirrorTarget' {
        Set-Content "$root/excludes.txt" "# editor noise`n*.bak`n`ncache/"
        Register-MirrorTarget -Name saved -Path "$root/saved-replica" -Exclude '*.tmp', '/top-only.txt' -ExcludeFile "$root/excludes.txt" `
            -DeleteMode Startup -SettleMilliseconds 20 -MaxDelayMilliseconds 500 -KeepAliveSeconds 5 -IoTimeoutSeconds 7 | Out-Null
        $t = Get-MirrorTarget saved
        $t.Exclude | Should -Be @('*.tmp', '/top-only.txt')
        $t.ExcludeFile | Should -Be "$root/excludes.txt"
        "$($t.DeleteMode)" | Should -Be 'Startup'
        $t.SettleMilliseconds | Should -Be 20
        $t.MaxDelayMilliseconds | Should -Be 500
        $t.KeepAliveSeconds | Should -Be 5
        $t.IoTimeoutSeconds | Should -Be 7
        (Get-Content -Raw $env:REALTIMEMIRROR_CONFIG | ConvertFrom-Json | Where-Object Name -eq saved).DeleteMode | Should -Be 'Startup'
    }

    It 'applies the saved excludes and delete mode to a one-shot sync, the command line overriding' {
        $src = New-Src 'settings-src'
        New-Item -ItemType Directory "$src/cache", "$src/sub" -Force | Out-Null
        foreach ($f in 'keep.txt', 'x.tmp', 'x.bak', 'cache/c.txt', 'top-only.txt', 'sub/top-only.txt') { Set-Content "$src/$f" $f }
        New-Item -ItemType Directory "$root/saved-replica" -Force | Out-Null
        Set-Content "$root/saved-replica/extra.txt" 'not in the source'
        Sync-MirrorTree -Path $src -Target saved | Out-Null
        $got = Get-ChildItem -Recurse -File "$root/saved-replica" | ForEach-Object { $_.FullName.Substring("$root/saved-replica/".Length) } | Sort-Object
        $got | Should -Be @('keep.txt', 'sub/top-only.txt')   # Startup: a tree sync deletes extra.txt
        Set-Content "$root/saved-replica/extra2.txt" 'again'
        Sync-MirrorTree -Path $src -Target saved -DeleteMode Never | Out-Null
        Test-Path "$root/saved-replica/extra2.txt" | Should -BeTrue
    }

    It 'removes stale temp files of ours from a <Kind> replica at start, one-shot and service alike, even without deleting' -ForEach @(
        @{ Kind = 'local' }, @{ Kind = 'sftp' }, @{ Kind = 'rsync' }
    ) {
        $src = New-Src "stale-$Kind-src"
        New-Item -ItemType Directory "$src/sub" | Out-Null
        Set-Content "$src/a.txt" 'a'
        Set-Content "$src/sub/b.txt" 'b'
        foreach ($run in 'oneshot', 'service') {
            $replica = "$root/stale-$Kind-$run"
            $name = "stale-$Kind-$run"
            switch ($Kind) {
                'local' { Register-MirrorTarget -Name $name -Path $replica -DeleteMode Never | Out-Null }
                'sftp' { Register-TestSshTarget -Name $name -RemotePath $replica -Extra @{ Rsync = 'Never'; DeleteMode = 'Never' } | Out-Null }
                'rsync' { Register-TestSshTarget -Name $name -RemotePath $replica -Extra @{ Rsync = 'Always'; DeleteMode = 'Never' } | Out-Null }
            }
            # What cut-off uploads left: our temp names beside a file and for one that never arrived, at two depths.
            New-Item -ItemType Directory "$replica/sub" -Force | Out-Null
            Set-Content "$replica/.a.txt.rtm-0123456789ab" 'half a file from a killed transfer'
            Set-Content "$replica/sub/.gone.bin.rtm-ba9876543210" 'half of a file the source no longer has'
            Set-Content "$replica/extra.txt" 'not ours: stays, nothing deletes here'
            if ($run -eq 'oneshot') { Sync-MirrorTree -Path $src -Target $name -ErrorAction Stop | Out-Null }
            else {
                $w = Start-MirrorWatch $src -Target $name -InitialSync
                try { Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -TimeoutSeconds 60 -Because 'the initial sync' }
                finally { $w | Stop-MirrorWatch }
            }
            @(Get-ChildItem -Force -Recurse $replica -Filter '.*.rtm-*') | Should -HaveCount 0 -Because "the $run sync cleans them up"
            Test-Path "$replica/extra.txt" | Should -BeTrue
            Get-Content "$replica/a.txt" | Should -Be 'a'
            Get-Content "$replica/sub/b.txt" | Should -Be 'b'
        }
    }
}

Describe 'Saved settle time and maximum delay' {
    # A file still held open by its writer: a closed file is sent at once, an open one once it was quiet for the settle
    # time, or at the latest the maximum delay after its first change.
    BeforeAll {
        function Open-Writer([string] $Path) { [IO.File]::Open($Path, [IO.FileMode]::Create, [IO.FileAccess]::Write, [IO.FileShare]::ReadWrite) }
        function Write-Line($Stream, [string] $Text) { $b = [Text.Encoding]::UTF8.GetBytes("$Text`n"); $Stream.Write($b, 0, $b.Length); $Stream.Flush() }
    }

    It 'the service waits out a target''s saved settle time, and the command line overrides it' {
        $src = New-Src 'settle-src'
        Register-MirrorTarget -Name settle -Path "$root/settle-replica" -SettleMilliseconds 5000 | Out-Null
        $w = Start-MirrorWatch $src -Target settle -InitialSync
        try {
            Wait-Until { (Get-State $w).State -eq 'Idle' } -Because 'the initial sync'
            $f = Open-Writer "$src/slow.log"
            try {
                Write-Line $f 'waits 5 s of quiet'
                $clock = [Diagnostics.Stopwatch]::StartNew()
                Start-Sleep -Seconds 2
                Test-Path "$root/settle-replica/slow.log" | Should -BeFalse -Because 'the saved 5 s settle time has not passed'
                Wait-Until { Test-Path "$root/settle-replica/slow.log" } -TimeoutSeconds 30 -Because 'the settle time over'
                $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 4.5
            }
            finally { $f.Dispose() }
        }
        finally { $w | Stop-MirrorWatch }
        $w = Start-MirrorWatch $src -Target settle -SettleMilliseconds 50
        try {
            $f = Open-Writer "$src/fast.log"
            try {
                Write-Line $f 'the command line says 50 ms'
                $clock = [Diagnostics.Stopwatch]::StartNew()
                Wait-Until { Test-Path "$root/settle-replica/fast.log" } -Because 'the overriding settle time'
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 4 -Because '-SettleMilliseconds 50 overrides the saved 5 s'
            }
            finally { $f.Dispose() }
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'sends a file that never goes quiet once the target''s saved maximum delay has passed' {
        $src = New-Src 'maxdelay-src'
        Register-MirrorTarget -Name maxdelay -Path "$root/maxdelay-replica" -SettleMilliseconds 5000 -MaxDelayMilliseconds 1500 | Out-Null
        $w = Start-MirrorWatch $src -Target maxdelay -InitialSync
        try {
            Wait-Until { (Get-State $w).State -eq 'Idle' } -Because 'the initial sync'
            # Appended every 300 ms for 8 s, never closed: never 5 s of quiet, so only the maximum delay sends it meanwhile.
            $f = Open-Writer "$src/busy.log"
            try {
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $arrived = $null
                $i = 0
                while ($clock.Elapsed.TotalSeconds -lt 8) {
                    Write-Line $f "line $((++$i))"
                    if (-not $arrived -and (Test-Path "$root/maxdelay-replica/busy.log")) { $arrived = $clock.Elapsed.TotalSeconds }
                    Start-Sleep -Milliseconds 300
                }
            }
            finally { $f.Dispose() }
            $arrived | Should -Not -BeNullOrEmpty -Because 'the maximum delay sends it while it is still being written'
            $arrived | Should -BeLessThan 6
            $arrived | Should -BeGreaterThan 1.2 -Because 'it is not sent before the maximum delay either'
        }
        finally { $w | Stop-MirrorWatch }
    }
}

Describe 'Ctrl+C during a transfer' {
    BeforeAll {
        $big = New-Src 'big-src'
        bash -c "head -c 200M /dev/urandom > '$big/big.bin'"
        Register-MirrorTarget -Name cancel-local -Path "$root/cancel-local" | Out-Null
        Register-TestSshTarget -Name cancel-sftp -RemotePath "$root/cancel-sftp" -Extra @{ Rsync = 'Never' } | Out-Null
        Register-TestSshTarget -Name cancel-rsync -RemotePath "$root/cancel-rsync" -Extra @{ Rsync = 'Always' } | Out-Null
    }

    It 'stops a 200 MB copy to <Name> within a second and leaves no temp file' -ForEach @(
        @{ Name = 'cancel-local'; Slow = $false }, @{ Name = 'cancel-sftp'; Slow = $true }, @{ Name = 'cancel-rsync'; Slow = $true }
    ) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$RepoRoot/RealtimeMirror.psd1'; Sync-MirrorTree -Path '$big' -Target $Name")
        $async = $ps.BeginInvoke()
        Start-Sleep -Milliseconds 300
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $clock.Stop()
        try { $ps.EndInvoke($async) } catch { }
        $ps.Dispose()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
        # Over SFTP the temp's removal is sent at the stop, not awaited: the host may take a moment to unlink it.
        Wait-Until { @(Get-ChildItem -Force -Recurse "$root/$Name" -Filter '.*.rtm-*' -ErrorAction SilentlyContinue).Count -eq 0 } -TimeoutSeconds 20 -Because 'no temp file of ours left
        # Over SSH the whole copy takes seconds here, so the stop really cut it short (a local copy may just finish).
        if ($Slow) { Test-Path "$root/$Name/big.bin" | Should -BeFalse }
        # rsync's receiver names its temp .big.bin.XXXXXX and removes it itself once the channel is gone.
        Wait-Until { @(Get-ChildItem -Force "$root/$Name" -Filter '.big.bin*' -ErrorAction SilentlyContinue).Count -eq 0 } -TimeoutSeconds 10 -Because 'no temp file left'
    }
}

Describe 'Stop-MirrorWatch during a transfer' {
    It 'stops the service mid 200 MB upload within a second and leaves no temp file' {
        $src = New-Src 'svc-big-src'
        bash -c "head -c 200M /dev/urandom > '$src/big.bin'"
        Register-TestSshTarget -Name svc-big -RemotePath "$root/svc-big" -Extra @{ Rsync = 'Never' } | Out-Null
        $w = Start-MirrorWatch $src -Target svc-big -InitialSync
        Start-Sleep -Milliseconds 800
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $w | Stop-MirrorWatch
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
        Test-Path "$root/svc-big/big.bin" | Should -BeFalse
        Wait-Until { @(Get-ChildItem -Force "$root/svc-big" -Filter '.*.rtm-*' -ErrorAction SilentlyContinue).Count -eq 0 } -TimeoutSeconds 20 -Because 'the temp file removed'
    }
}

Describe 'A frozen host' {
    It 'goes Retrying within about the I/O timeout, and delivers the queue once the host is back' {
        $src = New-Src 'frozen-src'
        Set-Content "$src/before.txt" 'before'
        $state = Start-SecondSshd 2311
        Register-SecondTarget -Name frozen -Port 2311 -RemotePath "$root/frozen-replica" -Extra @{ IoTimeoutSeconds = 3; KeepAliveSeconds = 1 } | Out-Null
        $w = Start-MirrorWatch $src -Target frozen -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { Test-Path "$root/frozen-replica/before.txt" } -Because 'the initial sync'
            Wait-Until { (Get-State $w).State -eq 'Idle' } -Because 'idle after the initial sync'
            Send-SshdSignal $state STOP
            $clock = [Diagnostics.Stopwatch]::StartNew()
            1..10 | ForEach-Object { Set-Content "$src/during-$_.txt" "written while the host was frozen $_" }
            Wait-Until { (Get-State $w).State -eq 'Retrying' } -TimeoutSeconds 30 -Because 'Retrying after the I/O timeout'
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
            (Get-State $w).LastError | Should -Not -BeNullOrEmpty
            Send-SshdSignal $state CONT
            Wait-Until { @(Get-ChildItem "$root/frozen-replica" -Filter 'during-*').Count -eq 10 } -TimeoutSeconds 90 -Because 'delivery after the thaw'
            Wait-TreesEqual $src "$root/frozen-replica" -NoDirectoryTimes
            # Frozen again, Stop does not wait out the I/O timeout.
            Send-SshdSignal $state STOP
            Set-Content "$src/after.txt" 'after'
            Start-Sleep -Milliseconds 500
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $w | Stop-MirrorWatch
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
        }
        finally {
            $w | Stop-MirrorWatch
            Stop-SecondSshd $state
        }
    }
}

Describe 'Lag and counts while a target is down' {
    It 'lets the lag grow while the host is gone and brings it back to zero once delivered, in Get-MirrorWatch and the status file alike' {
        $src = New-Src 'lag-src'
        Set-Content "$src/before.txt" 'before'
        $state = Start-SecondSshd 2313
        Register-SecondTarget -Name lag -Port 2313 -RemotePath "$root/lag-replica" -Extra @{ IoTimeoutSeconds = 3 } | Out-Null
        $w = Start-MirrorWatch $src -Target lag -InitialSync -SettleMilliseconds 50
        $file = "$env:REALTIMEMIRROR_RUNTIME_DIR/$PID-$($w.Id).json"
        function Get-FileState { (Get-Content -Raw $file | ConvertFrom-Json).Targets[0] }
        try {
            Wait-Until { (Get-State $w).State -eq 'Idle' -and (Test-Path "$root/lag-replica/before.txt") } -TimeoutSeconds 60 -Because 'the initial sync'
            $filesBefore = (Get-State $w).FilesApplied
            Stop-SecondSshd $state
            $written = [DateTime]::UtcNow
            [IO.File]::WriteAllText("$src/while-down.txt", 'written while the host was down')
            Wait-Until { (Get-State $w).State -eq 'Retrying' } -TimeoutSeconds 30 -Because 'Retrying while the host is gone'
            $first = (Get-State $w).Lag
            Start-Sleep -Seconds 2
            $now = Get-State $w
            $now.Lag.TotalSeconds | Should -BeGreaterThan ($first.TotalSeconds + 1.5) -Because 'the lag keeps growing while nothing is delivered'
            $now.Lag.TotalSeconds | Should -BeGreaterThan ((([DateTime]::UtcNow - $written).TotalSeconds) - 1) -Because "it is the age of the oldest change not on the replica"
            $now.QueueLength | Should -BeGreaterThan 0
            $now.LastError | Should -Not -BeNullOrEmpty
            $now.LastErrorTimeUtc | Should -BeGreaterThan $written.AddSeconds(-1)
            # The status file says the same, refreshed while the target is down.
            Wait-Until { (Get-FileState).LagSeconds -gt $now.Lag.TotalSeconds - 1 } -TimeoutSeconds 3 -Because 'the status file refreshed'
            $f = Get-FileState
            $f.State | Should -Be 'Retrying'
            $f.QueueLength | Should -BeGreaterThan 0
            $f.LastError | Should -Be $now.LastError
            ([datetime]$f.LastErrorTime).ToUniversalTime() | Should -BeGreaterThan $written.AddSeconds(-1)
            ([datetime]$f.NextRetry).ToUniversalTime() | Should -BeGreaterThan $written

            Start-SecondSshd 2313 | Out-Null
            Wait-Until { (Test-Path "$root/lag-replica/while-down.txt") -and (Get-State $w).Lag -eq [TimeSpan]::Zero } -TimeoutSeconds 90 -Because 'delivery after the host is back'
            $after = Get-State $w
            $after.State | Should -Be 'Idle'
            $after.QueueLength | Should -Be 0
            $after.FilesApplied | Should -BeGreaterThan $filesBefore
            Wait-Until { $x = Get-FileState; $x.LagSeconds -eq 0 -and $x.QueueLength -eq 0 -and $x.State -eq 'Idle' } -TimeoutSeconds 35 -Because 'the status file back at zero'
            (Get-FileState).FilesApplied | Should -Be $after.FilesApplied
            (Get-FileState).BytesSent | Should -Be $after.BytesSent
            $after.BytesSent | Should -BeGreaterOrEqual ('before'.Length + 'written while the host was down'.Length)
        }
        finally {
            $w | Stop-MirrorWatch
            Stop-SecondSshd $state
        }
    }
}

Describe 'Per-entry failures heal without a restart' {
    It 'delivers the rest once a full replica disk has room again' {
        $mnt = "$root/tmpfs"
        New-Item -ItemType Directory $mnt | Out-Null
        $out = bash -c "mount -t tmpfs -o size=2m tmpfs '$mnt' 2>&1"
        if ($LASTEXITCODE) { Set-ItResult -Skipped -Because "tmpfs cannot be mounted here ($out)"; return }
        try {
            bash -c "head -c 1400K /dev/zero > '$mnt/filler'"
            Register-MirrorTarget -Name full -Path "$mnt/replica" | Out-Null
            $src = New-Src 'full-src'
            $w = Start-MirrorWatch $src -Target full -InitialSync -SettleMilliseconds 50
            try {
                1..5 | ForEach-Object { bash -c "head -c 200K /dev/urandom > '$src/f$_.bin'" }
                Wait-Until { (Get-State $w).Errors -gt 0 } -TimeoutSeconds 30 -Because 'a disk-full error'
                (Get-State $w).LastError | Should -Match 'space|full'
                Remove-Item "$mnt/filler"
                Wait-Until { @(Get-ChildItem "$mnt/replica" -Filter 'f*.bin').Count -eq 5 -and (Get-State $w).RetrySetSize -eq 0 } -TimeoutSeconds 90 -Because 'the retried files'
                Wait-TreesEqual $src "$mnt/replica" -NoDirectoryTimes
            }
            finally { $w | Stop-MirrorWatch }
        }
        finally { bash -c "umount '$mnt'" }
    }

    It 'delivers files into a directory that was immutable once it is unlocked' {
        $src = New-Src 'locked-src'
        New-Item -ItemType Directory "$src/locked" | Out-Null
        Register-MirrorTarget -Name locked -Path "$root/locked-replica" | Out-Null
        Sync-MirrorTree -Path $src -Target locked | Out-Null
        $out = bash -c "chattr +i '$root/locked-replica/locked' 2>&1"
        if ($LASTEXITCODE) { Set-ItResult -Skipped -Because "chattr +i is not supported here ($out)"; return }
        $w = Start-MirrorWatch $src -Target locked -SettleMilliseconds 50
        try {
            1..3 | ForEach-Object { Set-Content "$src/locked/l$_.txt" "locked $_" }
            Wait-Until { (Get-State $w).RetrySetSize -gt 0 } -TimeoutSeconds 30 -Because 'the failed files in the retry set'
            # The status file tells another process the same: the retry set, the errors, the last one and when.
            $file = "$env:REALTIMEMIRROR_RUNTIME_DIR/$PID-$($w.Id).json"
            Wait-Until { (Get-Content -Raw $file | ConvertFrom-Json).Targets[0].RetrySetSize -gt 0 } -TimeoutSeconds 3 -Because 'the status file refreshed'
            $f = (Get-Content -Raw $file | ConvertFrom-Json).Targets[0]
            $f.Errors | Should -BeGreaterThan 0
            $f.LastError | Should -Match 'ermi|ot permitted'
            ([datetime]$f.LastErrorTime).ToUniversalTime() | Should -BeGreaterThan ([DateTime]::UtcNow.AddSeconds(-60))
            (Get-State $w).LastErrorTimeUtc | Should -BeGreaterThan ([DateTime]::UtcNow.AddSeconds(-60))
            bash -c "chattr -i '$root/locked-replica/locked'"
            Wait-Until { @(Get-ChildItem "$root/locked-replica/locked").Count -eq 3 } -TimeoutSeconds 90 -Because 'the retried files'
            Wait-TreesEqual $src "$root/locked-replica" -NoDirectoryTimes
            Wait-Until { $x = (Get-Content -Raw $file | ConvertFrom-Json).Targets[0]; $x.RetrySetSize -eq 0 -and $x.FilesApplied -ge 3 } -TimeoutSeconds 35 -Because 'an empty retry set in the status file'
        }
        finally {
            bash -c "chattr -i '$root/locked-replica/locked' 2>/dev/null; true"
            $w | Stop-MirrorWatch
        }
    }

    It 'reports over rsync only the files the receiver confirmed: a file it could not write is an error with its path, retried until it arrives' {
        $src = New-Src 'confirm-src'
        New-Item -ItemType Directory "$src/open", "$src/locked" | Out-Null
        Register-TestSshTarget -Name confirm -RemotePath "$root/confirm-replica" -Extra @{ Rsync = 'Always' } | Out-Null
        Sync-MirrorTree -Path $src -Target confirm | Out-Null
        $out = bash -c "chattr +i '$root/confirm-replica/locked' 2>&1"
        if ($LASTEXITCODE) { Set-ItResult -Skipped -Because "chattr +i is not supported here ($out)"; return }
        try {
            # Ten files: one rsync push. Two land in the locked directory, which the receiver cannot write.
            1..8 | ForEach-Object { Set-Content "$src/open/o$_.txt" "open $_" }
            1..2 | ForEach-Object { Set-Content "$src/locked/l$_.txt" "locked $_" }
            $results = Sync-MirrorTree -Path $src -Target confirm -ErrorVariable errs -ErrorAction SilentlyContinue
            $copied = @($results | Where-Object { $_.Action -eq 'Copied' -and $_.RelativePath -like '*.txt' } | ForEach-Object RelativePath | Sort-Object)
            $copied | Should -Be @(1..8 | ForEach-Object { "open/o$_.txt" })
            @($results | Where-Object RelativePath -like 'locked/*') | Should -BeNullOrEmpty
            # (The locked directory's own time cannot be set either: that is its own error.)
            # An entry's error names it as TARGET:PATH, from a one-shot sync and the service alike.
            $fileErrors = @($errs | Where-Object { "$($_.TargetObject)" -like 'confirm:locked/*' } | Sort-Object { $_.TargetObject })
            @($fileErrors | ForEach-Object TargetObject) | Should -Be @('confirm:locked/l1.txt', 'confirm:locked/l2.txt')
            $fileErrors[0].Exception.Message | Should -Match 'did not confirm'
            $fileErrors[0].FullyQualifiedErrorId | Should -BeLike 'SyncEntryFailed*'
            @($errs | Where-Object { "$($_.TargetObject)" -in '', 'confirm', 'confirm:' }) | Should -BeNullOrEmpty  # no whole-tree failure
            # The service puts each unconfirmed file in its retry set and delivers it once the directory is unlocked.
            Set-Content "$src/locked/l3.txt" 'locked 3'
            1..8 | ForEach-Object { Set-Content "$src/open/o$_.txt" "open again $_" }
            $w = Start-MirrorWatch $src -Target confirm -InitialSync -SettleMilliseconds 50
            try {
                Wait-Until { (Get-State $w).RetrySetSize -ge 3 } -TimeoutSeconds 30 -Because 'the three unconfirmed files in the retry set'
                (Get-Content "$root/confirm-replica/open/o8.txt") | Should -Be 'open again 8'
                bash -c "chattr -i '$root/confirm-replica/locked'"
                Wait-Until { @(Get-ChildItem "$root/confirm-replica/locked").Count -eq 3 -and (Get-State $w).RetrySetSize -eq 0 } -TimeoutSeconds 90 -Because 'the retried files'
                Wait-TreesEqual $src "$root/confirm-replica" -NoDirectoryTimes
            }
            finally { $w | Stop-MirrorWatch }
        }
        finally { bash -c "chattr -i '$root/confirm-replica/locked' 2>/dev/null; true" }
    }

    It 'compares by content a root restored over rsync while it was gone, though sizes and mtimes are the old ones' {
        $src = New-Src 'restored-src'
        $old = [datetime]::new(2021, 5, 1, 0, 0, 0, [DateTimeKind]::Utc)
        Set-Content -NoNewline -Path "$src/f.txt" -Value 'aaaa'
        [IO.File]::SetLastWriteTimeUtc("$src/f.txt", $old)
        Register-TestSshTarget -Name restored -RemotePath "$root/restored-replica" -Extra @{ Rsync = 'Always' } | Out-Null
        $w = Start-MirrorWatch $src -Target restored -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Test-Path "$root/restored-replica/f.txt") -and (Get-State $w).State -eq 'Idle' } -Because 'the initial sync'
            Remove-Item -Recurse -Force $src
            Wait-Until { (Get-State $w).RetrySetSize -gt 0 } -Because 'the missing root waiting for a retry'
            # Restored as a backup tool would: the same name, size and mtime, other content.
            New-Item -ItemType Directory $src | Out-Null
            Set-Content -NoNewline -Path "$src/f.txt" -Value 'bbbb'
            [IO.File]::SetLastWriteTimeUtc("$src/f.txt", $old)
            Wait-Until { (Get-Content -Raw "$root/restored-replica/f.txt") -eq 'bbbb' } -TimeoutSeconds 30 -Because 'the restored content'
            Wait-Until { (Get-State $w).RetrySetSize -eq 0 } -Because 'an empty retry set'
            Wait-TreesEqual $src "$root/restored-replica" -NoDirectoryTimes
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'mirrors a watched root given as a symlink to a directory, and keeps running' {
        $real = New-Src 'symlinked-real'
        Set-Content "$real/a.txt" 'a'
        New-Item -ItemType SymbolicLink -Path "$root/symlinked-root" -Target $real | Out-Null
        Register-MirrorTarget -Name symlinked -Path "$root/symlinked-replica" | Out-Null
        $w = Start-MirrorWatch "$root/symlinked-root" -Target symlinked -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Get-State $w).State -eq 'Idle' -and (Test-Path "$root/symlinked-replica/a.txt") } -Because 'the initial sync'
            Set-Content "$real/b.txt" 'b'
            Wait-Until { Test-Path "$root/symlinked-replica/b.txt" } -Because 'a live change below the symlinked root'
            (Get-MirrorWatch -Id $w.Id).State | Should -Be 'Running'
            (Get-State $w).Errors | Should -Be 0
            Wait-TreesEqual $real "$root/symlinked-replica" -NoDirectoryTimes
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'completes the initial sync when sshd is killed in the middle and comes back' {
        $src = New-Src 'killed-src'
        foreach ($d in 1..20) {
            New-Item -ItemType Directory "$src/d$d" | Out-Null
            foreach ($f in 1..100) { [IO.File]::WriteAllText("$src/d$d/f$f.txt", "file $d/$f " * 20) }
        }
        $state = Start-SecondSshd 2312
        Register-SecondTarget -Name killed -Port 2312 -RemotePath "$root/killed-replica" -Extra @{ Rsync = 'Never'; IoTimeoutSeconds = 5 } | Out-Null
        $w = Start-MirrorWatch $src -Target killed -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Test-Path "$root/killed-replica") -and @(Get-ChildItem -Recurse -File "$root/killed-replica").Count -gt 100 } -Because 'the initial sync under way'
            Stop-SecondSshd $state
            Wait-Until { (Get-State $w).State -eq 'Retrying' } -TimeoutSeconds 30 -Because 'Retrying while sshd is down'
            @(Get-ChildItem -Recurse -File "$root/killed-replica").Count | Should -BeLessThan 2000
            Start-SecondSshd 2312 | Out-Null
            Wait-Until { (Get-State $w).State -eq 'Idle' } -TimeoutSeconds 120 -Because 'the initial sync to finish'
            Wait-TreesEqual $src "$root/killed-replica" -NoDirectoryTimes
        }
        finally {
            $w | Stop-MirrorWatch
            Stop-SecondSshd $state
        }
    }
}

Describe 'Delete modes in the service' {
    It 'deletes only what <Mode> allows: at the initial sync <AtStart>, while running <Running>' -ForEach @(
        @{ Mode = 'Always'; AtStart = $true; Running = $true }, @{ Mode = 'Never'; AtStart = $false; Running = $false }
        @{ Mode = 'Startup'; AtStart = $true; Running = $false }, @{ Mode = 'Running'; AtStart = $false; Running = $true }
    ) {
        $src = New-Src "mode-$Mode"
        Set-Content "$src/kept.txt", "$src/doomed.txt" 'x'
        $replica = "$root/mode-$Mode-replica"
        New-Item -ItemType Directory $replica | Out-Null
        Set-Content "$replica/extra.txt" 'only on the replica'
        Register-MirrorTarget -Name "mode-$Mode" -Path $replica -DeleteMode $Mode | Out-Null
        $w = Start-MirrorWatch $src -Target "mode-$Mode" -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Test-Path "$replica/doomed.txt") -and (Get-State $w).State -eq 'Idle' } -Because 'the initial sync'
            Test-Path "$replica/extra.txt" | Should -Be (-not $AtStart)
            Remove-Item "$src/doomed.txt"
            Set-Content "$src/marker.txt" 'after the delete'
            Wait-Until { Test-Path "$replica/marker.txt" } -Because 'the events'
            Start-Sleep -Milliseconds 300
            Test-Path "$replica/doomed.txt" | Should -Be (-not $Running)
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'reports a missing saved exclude file as that target''s failure instead of mirroring what it should leave out' {
        $src = New-Src 'noexcl-src'
        Set-Content "$src/a.txt" 'a'
        Set-Content "$root/gone.exclude" '*.log'
        Register-MirrorTarget -Name noexcl -Path "$root/noexcl-replica" -ExcludeFile "$root/gone.exclude" | Out-Null
        Remove-Item "$root/gone.exclude"
        $w = Start-MirrorWatch $src -Target noexcl -InitialSync
        try {
            Wait-Until { (Get-State $w).State -eq 'Failed' } -Because 'the Failed state'
            (Get-State $w).LastError | Should -Match 'gone.exclude'
            Test-Path "$root/noexcl-replica/a.txt" | Should -BeFalse
        }
        finally { $w | Stop-MirrorWatch }
    }
}

Describe 'Transfer options saved with a target: compression and a bandwidth limit' {
    It 'keeps a 512 KiB copy at about the limit over SFTP and rsync, and -Compress sends a compressible file in far fewer bytes over both' {
        $src = Join-Path $TestDrive 'bw-src'
        New-Item -ItemType Directory $src | Out-Null
        [IO.File]::WriteAllBytes("$src/random.bin", [byte[]](Get-Random -Count 524288 -Minimum 0 -Maximum 256 -SetSeed 7 | ForEach-Object { [byte]$_ }))
        foreach ($mode in 'Never', 'Always') {
            $name = "bw-$mode"
            Register-TestSshTarget -Name $name -RemotePath (Join-Path $TestDrive "bw-replica-$mode") -Extra @{ Rsync = $mode; BandwidthLimit = 256; Force = $true } | Out-Null
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Sync-MirrorTree -Path $src -Target $name -ErrorAction Stop | Out-Null
            # 512 KiB at 256 KiB/s: about 2 s (a quarter second of burst allowed).
            $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 1.4 -Because "the $mode transfer is held to the limit"
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 12 -Because "the $mode transfer goes at about the limit, not far below it"
            (Get-FileHash "$src/random.bin").Hash | Should -Be (Get-FileHash (Join-Path $TestDrive "bw-replica-$mode/random.bin")).Hash
        }
        Set-Content "$src/text.txt" (('the same line of text, again and again ' * 40 + "`n") * 2000)
        Remove-Item "$src/random.bin"
        # Bytes on the wire: the loopback interface's counter, as the benchmark measures them.
        function Get-LoopbackBytes { [long](((Get-Content /proc/net/dev) -match '^\s*lo:' -split '\s+' | Where-Object { $_ })[1]) }
        # Through rsync (zstd tokens) and over SFTP alone (the SSH connection compresses, like ssh -C).
        foreach ($mode in 'Always', 'Never') {
            Register-TestSshTarget -Name "z-on-$mode" -RemotePath (Join-Path $TestDrive "z-on-$mode") -Extra @{ Rsync = $mode; Compress = $true; Force = $true } | Out-Null
            Register-TestSshTarget -Name "z-off-$mode" -RemotePath (Join-Path $TestDrive "z-off-$mode") -Extra @{ Rsync = $mode; Force = $true } | Out-Null
            $before = Get-LoopbackBytes; $rOn = Sync-MirrorTree -Path $src -Target "z-on-$mode" -ErrorAction Stop; $on = (Get-LoopbackBytes) - $before
            $before = Get-LoopbackBytes; $rOff = Sync-MirrorTree -Path $src -Target "z-off-$mode" -ErrorAction Stop; $off = (Get-LoopbackBytes) - $before
            ($rOn | Where-Object RelativePath -eq 'text.txt').Transport | Should -Be ($mode -eq 'Always' ? 'Rsync' : 'Sftp')
            (Get-FileHash "$src/text.txt").Hash | Should -Be (Get-FileHash (Join-Path $TestDrive "z-on-$mode/text.txt")).Hash
            (Get-FileHash "$src/text.txt").Hash | Should -Be (Get-FileHash (Join-Path $TestDrive "z-off-$mode/text.txt")).Hash
            $off | Should -BeGreaterThan 1MB -Because "the $mode transfer without -Compress"
            $on | Should -BeLessThan ($off / 5) -Because "the $mode transfer with -Compress ($on against $off bytes)"
        }
    }
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    Register-TestSshTarget -Name ssh -RemotePath "$root/replica" -Extra @{ Rsync = 'Never' } | Out-Null

    function New-Src([string] $Name) { $d = "$root/$Name"; New-Item -ItemType Directory $d -Force | Out-Null; $d }
    function Get-Events($Watch, [double] $Seconds = 1.5) { @(Get-MirrorEvent -Watch $Watch -Timeout $Seconds) }
}
AfterAll {
    Get-MirrorWatch | Stop-MirrorWatch
    Remove-MirrorTest
}

Describe 'Start-MirrorWatch / Get-MirrorWatch / Stop-MirrorWatch' {
    It 'returns a running watch that Get-MirrorWatch lists and Stop-MirrorWatch stops' {
        $src = New-Src 'w1'
        $w = Start-MirrorWatch $src
        $w.Id | Should -BeGreaterThan 0
        $w.State | Should -Be 'Running'
        (Get-MirrorWatch -Id $w.Id).Path | Should -Be $src
        $w | Stop-MirrorWatch
        (Get-MirrorWatch -Id $w.Id).State | Should -Not -Be 'Running'
    }

    It 'names the backend asked for (<Backend>) and why, on the watch, in Get-MirrorWatch and in -Verbose, and reports through it' -ForEach @(
        @{ Backend = 'Inotify'; Note = 'Inotify as asked*max_user_watches*' }
        @{ Backend = 'Portable'; Note = 'Portable as asked*FileSystemWatcher*' }
    ) {
        $src = New-Src "named-$Backend"
        $w = Start-MirrorWatch $src -Backend $Backend -SettleMilliseconds 50 -Verbose 4>&1 | Tee-Object -Variable all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        try {
            $w.Backend | Should -Be $Backend
            $w.BackendNote | Should -BeLike $Note
            (@($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n") | Should -BeLike "*$Backend as asked*"
            (Get-MirrorWatch -Id $w.Id).Backend | Should -Be $Backend
            [IO.File]::WriteAllText("$src/seen.txt", 'x')
            (Get-Events $w | Where-Object RelativePath -eq 'seen.txt').ChangeType | Should -Be 'Created'
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'reports a missing directory and an unknown watch id as errors' {
        Start-MirrorWatch "$root/no-such" -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SourceNotFound*'
        Get-MirrorWatch -Id 99999 -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'WatchNotFound*'
    }
}

Describe 'Get-MirrorEvent: settled, coalesced events' {
    BeforeEach {
        $src = New-Src ("ev-" + [guid]::NewGuid().ToString('N').Substring(0, 6))
        $w = Start-MirrorWatch $src -SettleMilliseconds 100
    }
    AfterEach { $w | Stop-MirrorWatch }

    It 'folds create + write into one Created event with the final size' {
        # One open-write-close: the close says the file is complete, so it is emitted at once, as one Created.
        $f = [IO.File]::Open("$src/a.txt", 'CreateNew', 'Write')
        try { $f.Write([Text.Encoding]::ASCII.GetBytes('one'), 0, 3); $f.Flush(); $f.Write([Text.Encoding]::ASCII.GetBytes(' two'), 0, 4) }
        finally { $f.Dispose() }
        $e = Get-Events $w
        $e.Count | Should -Be 1
        $e[0].ChangeType | Should -Be 'Created'
        $e[0].RelativePath | Should -Be 'a.txt'
        $e[0].Size | Should -Be 7
        $e[0].WatchRoot | Should -Be $src
        $e[0].GetType().Name | Should -Be 'MirrorEvent'
    }

    It 'ends a file created and deleted at once with a Deleted hint (an older file of that name may be on a replica)' {
        [IO.File]::WriteAllText("$src/flash.txt", 'x')
        Remove-Item "$src/flash.txt"
        $e = @(Get-Events $w)
        # The closed write may be emitted at once (no settle wait for a finished file); the delete always follows.
        $e.Count | Should -BeIn 1, 2
        $e[-1].ChangeType | Should -Be 'Deleted'
        $e.RelativePath | Should -Be (@('flash.txt') * $e.Count)
    }

    It 'reports a rename with its old path' {
        [IO.File]::WriteAllText("$src/old.txt", 'x')
        Get-Events $w | Out-Null
        Rename-Item "$src/old.txt" 'new.txt'
        $e = Get-Events $w
        $e.ChangeType | Should -Be 'Renamed'
        $e.OldRelativePath | Should -Be 'old.txt'
        $e.RelativePath | Should -Be 'new.txt'
    }

    It 'reports what lands in a new directory tree, each directory before its contents' {
        New-Item -ItemType Directory "$src/a/b/c" -Force | Out-Null
        foreach ($d in 'a', 'a/b', 'a/b/c') { 1..3 | ForEach-Object { [IO.File]::WriteAllText("$src/$d/f$_", "$_") } }
        $e = Get-Events $w 2
        $created = $e | Where-Object ChangeType -eq 'Created'
        foreach ($d in 'a', 'a/b', 'a/b/c') { 1..3 | ForEach-Object { $created.RelativePath | Should -Contain "$d/f$_" } }
        $paths = @($e.RelativePath)
        foreach ($ev in $e) {
            $parent = Split-Path $ev.RelativePath -Parent
            if ($parent -and $paths -contains $parent) { $paths.IndexOf($parent) | Should -BeLessThan $paths.IndexOf($ev.RelativePath) }
        }
    }

    It 'never reports the default editor swap and temp files' {
        [IO.File]::WriteAllText("$src/.doc.swp", 'x')
        [IO.File]::WriteAllText("$src/doc.txt~", 'x')
        [IO.File]::WriteAllText("$src/doc.txt", 'x')
        (Get-Events $w).RelativePath | Should -Be 'doc.txt'
    }
}

Describe 'Live mirroring pipeline' {
    It 'keeps the replica equal through a churn of creates, edits, renames and deletes (directories too)' {
        $src = New-Src 'churn'
        Sync-MirrorTree -Path $src -Target ssh | Out-Null
        $w = Start-MirrorWatch $src -SettleMilliseconds 50
        $churn = Start-ThreadJob -ArgumentList $src -ScriptBlock {
            param($src)
            $rng = [Random]::new(42)
            $files = [Collections.Generic.List[string]]::new()
            $dirs = [Collections.Generic.List[string]]::new(); $dirs.Add($src)
            for ($i = 0; $i -lt 400; $i++) {
                switch ($rng.Next(10)) {
                    { $_ -lt 3 } { $p = Join-Path $dirs[$rng.Next($dirs.Count)] "f$i.txt"; [IO.File]::WriteAllText($p, "v$i" * $rng.Next(1, 200)); $files.Add($p) }
                    3 { $d = Join-Path $dirs[$rng.Next($dirs.Count)] "d$i"; New-Item -ItemType Directory $d | Out-Null; $dirs.Add($d)
                        [IO.File]::WriteAllText("$d/inner.txt", "in $i"); $files.Add("$d/inner.txt") }
                    { $_ -in 4, 5 } { if ($files.Count) { $p = $files[$rng.Next($files.Count)]; if (Test-Path -LiteralPath $p) { [IO.File]::AppendAllText($p, "edit $i") } } }
                    6 { if ($files.Count) { $k = $rng.Next($files.Count); $p = $files[$k]; if (Test-Path -LiteralPath $p) { $n = "$p.renamed$i"; Move-Item -LiteralPath $p $n; $files[$k] = $n } } }
                    7 { if ($files.Count) { $k = $rng.Next($files.Count); $p = $files[$k]; Remove-Item -LiteralPath $p -ErrorAction SilentlyContinue; $files.RemoveAt($k) } }
                    8 { if ($dirs.Count -gt 2) { $k = $rng.Next(1, $dirs.Count); $d = $dirs[$k]
                            if (Test-Path -LiteralPath $d) { $n = "$d-mv$i"; Move-Item -LiteralPath $d $n
                                for ($j = 0; $j -lt $dirs.Count; $j++) { if ($dirs[$j] -eq $d -or $dirs[$j].StartsWith("$d/")) { $dirs[$j] = $n + $dirs[$j].Substring($d.Length) } }
                                for ($j = 0; $j -lt $files.Count; $j++) { if ($files[$j].StartsWith("$d/")) { $files[$j] = $n + $files[$j].Substring($d.Length) } } } } }
                    9 { if ($dirs.Count -gt 3) { $k = $rng.Next(1, $dirs.Count); $d = $dirs[$k]; Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue
                            $dirs.RemoveAll([Predicate[string]] { param($x) $x -eq $d -or $x.StartsWith("$d/") }) | Out-Null
                            $files.RemoveAll([Predicate[string]] { param($x) $x.StartsWith("$d/") }) | Out-Null } }
                }
                if ($i % 20 -eq 0) { Start-Sleep -Milliseconds 30 }
            }
        }
        # Stream events into the sync while the churn runs, and for a moment after it settles. The churn deletes most of
        # this small tree on purpose: no halt before mass deletion.
        $results = @(Get-MirrorEvent -Watch $w -Timeout 6 | Where-Object Path -notlike '*.tmp' | Sync-MirrorTree -Target ssh -HaltThreshold 100%)
        $churn | Wait-Job | Receive-Job
        # On a slow machine the churn may outlast the first stream: what it changed after that waits in the watch for the
        # next reader, as it would for an admin's next pipeline.
        $results += Get-MirrorEvent -Watch $w -Timeout 1.5 | Where-Object Path -notlike '*.tmp' | Sync-MirrorTree -Target ssh -HaltThreshold 100%
        $w | Stop-MirrorWatch
        $results | Should -Not -BeNullOrEmpty
        Assert-TreesEqual $src "$root/replica" -NoDirectoryTimes
    }

    It 'turns a rename into a rename on the replica (no bytes sent), and deletes into deletes' {
        $src = "$root/churn"
        $w = Start-MirrorWatch $src -SettleMilliseconds 50
        [IO.File]::WriteAllBytes("$src/big.bin", [byte[]]::new(300000))
        $r1 = Get-MirrorEvent -Watch $w -Timeout 1.5 | Sync-MirrorTree -Target ssh
        ($r1 | Where-Object RelativePath -eq 'big.bin').Bytes | Should -Be 300000
        Rename-Item "$src/big.bin" 'moved.bin'
        $r2 = Get-MirrorEvent -Watch $w -Timeout 1.5 | Sync-MirrorTree -Target ssh
        $mv = $r2 | Where-Object Action -eq 'Renamed'
        $mv.OldRelativePath | Should -Be 'big.bin'
        $mv.RelativePath | Should -Be 'moved.bin'
        ($r2 | Measure-Object Bytes -Sum).Sum | Should -Be 0
        Remove-Item "$src/moved.bin"
        $r3 = Get-MirrorEvent -Watch $w -Timeout 1.5 | Sync-MirrorTree -Target ssh
        ($r3 | Where-Object Action -eq 'Deleted').RelativePath | Should -Be 'moved.bin'
        Test-Path "$root/replica/moved.bin" | Should -BeFalse
        $w | Stop-MirrorWatch
    }

    It 'answers a Rescan event with a compare of that subtree' {
        $src = "$root/churn"
        Set-Content "$root/replica/drifted.txt" 'made on the replica behind our back'
        Remove-Item "$root/replica/*" -Include 'f1*.txt' -ErrorAction SilentlyContinue
        [RealtimeMirror.Engine.Events.MirrorEvent]::new($src, '', 'Rescan', $true, $null, [datetime]::UtcNow, $null, 0) |
            Sync-MirrorTree -Target ssh | Out-Null
        Assert-TreesEqual $src "$root/replica" -NoDirectoryTimes
    }
    It 'folds a backlog nobody drains into a Rescan, and the replica still ends equal' {
        $src = New-Src 'backlog'
        Register-MirrorTarget -Name backlog -Path "$root/backlog-replica" | Out-Null
        $w = Start-MirrorWatch $src -MaxQueuedEvents 100
        foreach ($i in 1..1000) { [IO.File]::WriteAllText("$src/f$i.txt", "$i") }
        Wait-Until { (Get-MirrorWatch -Id $w.Id).Overflows -gt 0 } -Because 'the backlog bound'
        $events = @(Get-MirrorEvent -Watch $w -Timeout 2)
        $events.Count | Should -BeLessThan 1000
        $events.ChangeType | Should -Contain 'Rescan'
        $events | Sync-MirrorTree -Target backlog | Out-Null
        @(Get-ChildItem "$root/backlog-replica").Count | Should -Be 1000
        Assert-TreesEqual $src "$root/backlog-replica"
        $w | Stop-MirrorWatch
    }
}

Describe 'Service mode: Start-MirrorWatch -Target' {
    It 'syncs first, then mirrors changes in the background, and reports target status' {
        $src = New-Src 'svc'
        [IO.File]::WriteAllText("$src/before.txt", 'written before the service started')
        Register-TestSshTarget -Name svc -RemotePath "$root/svc-replica" -Extra @{ Rsync = 'Never' } | Out-Null
        $w = Start-MirrorWatch $src -Target svc -InitialSync -SettleMilliseconds 50
        Wait-Until { Test-Path "$root/svc-replica/before.txt" } -Because 'the initial sync'
        Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -Because 'an idle target after the initial sync'
        New-Item -ItemType Directory "$src/new dir/sub" -Force | Out-Null
        [IO.File]::WriteAllText("$src/new dir/sub/after.txt", 'written while watching')
        Wait-Until { Test-Path "$root/svc-replica/new dir/sub/after.txt" } -Because 'the live change'
        Wait-Until { ((Get-MirrorWatch -Id $w.Id).Targets[0].QueueLength -eq 0) -and (Get-MirrorWatch -Id $w.Id).Targets[0].Applied -gt 0 } -Because 'an empty queue'
        $status = (Get-MirrorWatch -Id $w.Id).Targets[0]
        $status.Target | Should -Be 'svc'
        $status.Errors | Should -Be 0
        try { Wait-TreesEqual $src "$root/svc-replica" -NoDirectoryTimes }
        finally { $w | Stop-MirrorWatch }
    }

    It 'keeps its queue while the target is down and delivers it when the host comes back' {
        $src = New-Src 'outage'
        $port = 2299
        $state = "$root/sshd-$port"
        New-Item -ItemType Directory $state | Out-Null
        $main = Split-Path $env:RTM_SSH_KEY -Parent
        Copy-Item "$main/host_ed25519*", "$main/client_ed25519*" $state
        Set-Content "$root/known_hosts_$port" "[127.0.0.1]:$port $((Get-Content "$main/host_ed25519.pub") -replace ' [^ ]+$','')"
        Register-TestSshTarget -Name later -RemotePath "$root/later-replica" -Extra @{ Port = $port; KnownHostsFile = "$root/known_hosts_$port"; NoConnect = $true; Rsync = 'Never' } | Out-Null

        $w = Start-MirrorWatch $src -Target later -SettleMilliseconds 50
        [IO.File]::WriteAllText("$src/queued.txt", 'written while the replica was down')
        Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Retrying' } -Because 'the retry state'
        Start-Sleep -Milliseconds 500
        (Get-MirrorWatch -Id $w.Id).Targets[0].LastError | Should -Not -BeNullOrEmpty

        $env:RTM_SSHD_STATE = $state; $env:RTM_SSHD_PORT = $port
        try { bash "$RepoRoot/tests/sshd/start-test-sshd.sh" | Out-Null }
        finally { Remove-Item env:RTM_SSHD_STATE, env:RTM_SSHD_PORT }
        try {
            Wait-Until { Test-Path "$root/later-replica/queued.txt" } -TimeoutSeconds 30 -Because 'delivery after the outage'
            Get-Content -Raw "$root/later-replica/queued.txt" | Should -Be 'written while the replica was down'
        }
        finally {
            $w | Stop-MirrorWatch
            if (Test-Path "$state/sshd.pid") { Stop-Process -Id (Get-Content "$state/sshd.pid") -ErrorAction SilentlyContinue }
        }
    }
}

Describe 'inotify refusals in a service log' {
    # A user namespace with its own small user.max_inotify_watches, and a directory of an owner it does not map (its
    # root may not read it): the real ENOSPC and EACCES, which this root test process cannot meet itself.
    BeforeDiscovery { $script:NoUserNs = -not $IsLinux -or ((& unshare -U -r true 2>&1), $LASTEXITCODE)[-1] -ne 0 }

    It 'logs each once as a warning naming the directory and the fix, and goes on mirroring the rest' -Skip:$script:NoUserNs {
        $access = New-Src 'refused/access'
        $full = New-Src 'refused/full'
        New-Item -ItemType Directory "$access/locked/inner", "$access/open" | Out-Null
        0..39 | ForEach-Object { New-Item -ItemType Directory ("$full/d{0:00}" -f $_) | Out-Null }
        chown -R 4000123:4000123 "$access/locked"
        chmod 700 "$access/locked"
        Register-MirrorTarget -Name refused -Path "$root/refused-replica" | Out-Null
        $log = "$root/refused.log"
        $r = Invoke-ChildPwsh -Prefix @('unshare', '-U', '-r', 'sh', '-c', 'echo 24 > /proc/sys/user/max_inotify_watches && exec "$0" "$@"') -Script @"
`$w = Start-MirrorWatch '$access', '$full' -Target refused -InitialSync -Backend Inotify -SettleMilliseconds 50 -LogPath '$log' -HaltThreshold 100%
Start-Sleep -Milliseconds 500
[IO.File]::WriteAllText('$access/open/after.txt', 'a')
[IO.File]::WriteAllText('$full/after.txt', 'b')
`$deadline = [DateTime]::UtcNow.AddSeconds(20)
while ([DateTime]::UtcNow -lt `$deadline -and -not ((Test-Path '$root/refused-replica/access/open/after.txt') -and (Test-Path '$root/refused-replica/full/after.txt'))) { Start-Sleep -Milliseconds 100 }
`$info = Get-MirrorWatch -Id `$w.Id
`$w | Stop-MirrorWatch
@{ State = "`$(`$info.State)"; Backend = `$info.Backend }
"@
        $r.Backend | Should -Be 'Inotify'
        $r.State | Should -Be 'Running'
        Test-Path "$root/refused-replica/access/open/after.txt" | Should -BeTrue
        Test-Path "$root/refused-replica/full/after.txt" | Should -BeTrue
        $warnings = @(Get-Content $log | Where-Object { $_ -like '* WARN *action=WatchFault*' })
        $warnings.Count | Should -Be 2 -Because ($warnings -join "`n")
        @($warnings | Where-Object { $_ -like "*cannot watch '$access/locked' with inotify: permission denied*" }).Count | Should -Be 1
        $limit = @($warnings | Where-Object { $_ -like "*cannot watch '$full/d*" })
        $limit.Count | Should -Be 1
        $limit[0] | Should -BeLike '*user.max_inotify_watches = 24 in this user namespace*sysctl user.max_inotify_watches=*'
    }
}

# Status from outside: a mirror service in another process, seen and stopped from this one through its status file;
# and the periodic verify that repairs a replica changed behind the service's back.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    $runDir = $env:REALTIMEMIRROR_RUNTIME_DIR
    Register-TestSshTarget -Name ssh -RemotePath "$root/replica" | Out-Null
    $script:children = [Collections.Generic.List[Diagnostics.Process]]::new()

    # A service in a child pwsh in the background, the way systemd runs it; it shares this test's private target
    # file and runtime directory through the environment.
    function Start-ChildService([string] $Source, [string] $Target) {
        $exe = [Environment]::ProcessPath
        $script = "Import-Module '$RepoRoot/RealtimeMirror.psd1'; Start-MirrorWatch '$Source' -Target $Target -InitialSync -Wait | Out-Null"
        $childArgs = @('-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))
        if ((Split-Path -Leaf $exe) -like 'dotnet*') { $childArgs = @(Join-Path $PSHOME 'pwsh.dll') + $childArgs }
        $p = Start-Process -FilePath $exe -ArgumentList $childArgs -PassThru -RedirectStandardOutput "$root/child.out" -RedirectStandardError "$root/child.err"
        $script:children.Add($p)
        $p
    }

    function Write-FakeStatus([int] $ProcessId, [long] $StartMark, [int] $WatchId) {
        if (-not (Test-Path $runDir)) { New-Item -ItemType Directory $runDir | Out-Null; chmod 700 $runDir }
        $file = "$runDir/$ProcessId-$WatchId.json"
        @{ ProcessId = $ProcessId; ProcessStartMark = $StartMark; WatchId = $WatchId; Paths = @('/srv/old'); State = 'Running'; Targets = @() } |
            ConvertTo-Json | Set-Content $file
        $file
    }
}
AfterAll {
    foreach ($p in $script:children) { if (-not $p.HasExited) { $p.Kill() } }
    Get-MirrorWatch | Where-Object InThisSession | Stop-MirrorWatch
    Remove-MirrorTest
}

Describe 'A mirror service in another process' {
    It 'is listed by Get-MirrorWatch with its targets state, queue and lag, from a 0600 status file, and stopped by Stop-MirrorWatch' {
        $src = "$root/child-src"
        New-Item -ItemType Directory "$src/sub" -Force | Out-Null
        [IO.File]::WriteAllText("$src/sub/before.txt", 'written before the service started')
        $child = Start-ChildService $src 'ssh'

        Wait-Until { (Get-MirrorWatch -ProcessId $child.Id).Targets.State -eq 'Idle' } -TimeoutSeconds 60 -Because 'the child service to finish its initial sync'
        $w = Get-MirrorWatch -ProcessId $child.Id
        $w.Id | Should -Be 1
        $w.InThisSession | Should -BeFalse
        $w.State | Should -Be 'Running'
        $w.Path | Should -Be $src
        $w.Targets[0].Target | Should -Be 'ssh'
        $w.Targets[0].QueueLength | Should -Be 0
        $w.Targets[0].Lag | Should -Be ([TimeSpan]::Zero)
        $w.Targets[0].BytesSent | Should -BeGreaterThan 0
        Test-Path "$root/replica/sub/before.txt" | Should -BeTrue

        # A live change shows up in the other process's status within a few seconds.
        [IO.File]::WriteAllText("$src/after.txt", 'written while the child watches')
        Wait-Until { Test-Path "$root/replica/after.txt" } -Because 'the live change'
        Wait-Until { (Get-MirrorWatch -ProcessId $child.Id).Targets[0].FilesApplied -ge 2 } -Because 'the status to count it'
        (Get-MirrorWatch -ProcessId $child.Id).UpdatedUtc | Should -BeGreaterThan ([datetime]::UtcNow.AddSeconds(-5))

        [Convert]::ToString([int](Get-Item $runDir).UnixFileMode, 8) | Should -Be '700'
        [Convert]::ToString([int](Get-Item "$runDir/$($child.Id)-1.json").UnixFileMode, 8) | Should -Be '600'
        @(Get-ChildItem $runDir -Filter '*.tmp').Count | Should -Be 0

        Get-MirrorWatch | Where-Object ProcessId -eq $child.Id | Stop-MirrorWatch -WhatIf
        $child.WaitForExit(1500) | Should -BeFalse -Because '-WhatIf sends nothing'

        Get-MirrorWatch | Where-Object ProcessId -eq $child.Id | Stop-MirrorWatch
        $child.WaitForExit(20000) | Should -BeTrue -Because 'SIGTERM ends the child'
        Get-MirrorWatch -ProcessId $child.Id | Should -BeNullOrEmpty
        Test-Path "$runDir/$($child.Id)-1.json" | Should -BeFalse -Because 'the file is removed on stop, or by the next reader once the process is gone'
    }

    It 'refreshes its status file at least every second during a burst: another process sees the queue and the counts move' {
        $src = "$root/burst-src"
        New-Item -ItemType Directory $src | Out-Null
        # SFTP, one upload at a time: the burst takes seconds to apply.
        Register-TestSshTarget -Name burst -RemotePath "$root/burst-replica" -Extra @{ Rsync = 'Never' } | Out-Null
        $child = Start-ChildService $src 'burst'
        $file = "$runDir/$($child.Id)-1.json"
        try {
            Wait-Until { (Test-Path $file) -and (Get-Content -Raw $file | ConvertFrom-Json).Targets[0].State -eq 'Idle' } -TimeoutSeconds 60 -Because 'the child service to be idle'
            $writer = Start-ThreadJob { param($Dir) 1..1500 | ForEach-Object { [IO.File]::WriteAllText("$Dir/b$_.txt", "burst file $_"); if ($_ % 100 -eq 0) { Start-Sleep -Milliseconds 100 } } } -ArgumentList $src
            # This process reads the file as any other would, five times a second, until the burst is on the replica.
            $seen = [Collections.Generic.List[object]]::new()
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            do {
                try {
                    $j = [IO.File]::ReadAllText($file) | ConvertFrom-Json
                    $t = $j.Targets[0]
                    $seen.Add([pscustomobject]@{ Read = [DateTime]::UtcNow; Updated = [datetime]$j.Updated; Queue = $t.QueueLength; Files = $t.FilesApplied; Bytes = $t.BytesSent; Lag = $t.LagSeconds })
                }
                catch [IO.IOException] { }
                Start-Sleep -Milliseconds 200
            } until (($seen.Count -gt 0 -and $seen[-1].Files -ge 1500 -and $seen[-1].Queue -eq 0) -or [DateTime]::UtcNow -gt $deadline)
            $writer | Wait-Job | Remove-Job
        }
        finally { if (-not $child.HasExited) { $child.Kill() } }
        $seen[-1].Files | Should -BeGreaterOrEqual 1500 -Because 'the whole burst is counted in the end'
        $seen[-1].Queue | Should -Be 0
        $seen[-1].Lag | Should -Be 0
        # While busy (something queued), the file never went more than a second (and a little for the write) unrefreshed.
        $busy = @($seen | Where-Object Queue -gt 0)
        $busy.Count | Should -BeGreaterThan 5 -Because 'the burst kept the service busy for more than a second'
        foreach ($s in $busy) { ($s.Read - $s.Updated).TotalSeconds | Should -BeLessThan 1.8 }
        # And the numbers moved while it worked, not only at the end: two values seen while something was still queued
        # (a fast machine applies the burst in a few refreshes, so more is not promised).
        @($busy | ForEach-Object Files | Sort-Object -Unique).Count | Should -BeGreaterThan 1
        @($busy | ForEach-Object Bytes | Sort-Object -Unique).Count | Should -BeGreaterThan 1
        @($seen | ForEach-Object Queue | Sort-Object -Unique).Count | Should -BeGreaterThan 2
        @($busy | Where-Object Lag -gt 0).Count | Should -BeGreaterThan 0
    }

    It 'ignores and removes the status file of a dead process' {
        $dead = Start-Process true -PassThru
        $dead.WaitForExit()
        $file = Write-FakeStatus $dead.Id 12345 3
        Get-MirrorWatch -ProcessId $dead.Id | Should -BeNullOrEmpty
        Test-Path $file | Should -BeFalse
    }

    It 'never signals a live process whose start time is not the one in the file (a recycled pid)' {
        $other = Start-Process sleep -ArgumentList 60 -PassThru
        try {
            $file = Write-FakeStatus $other.Id 1 4
            Get-MirrorWatch -ProcessId $other.Id | Should -BeNullOrEmpty
            Test-Path $file | Should -BeFalse
            Write-FakeStatus $other.Id 1 4 | Out-Null
            Stop-MirrorWatch -Id 4 -ProcessId $other.Id -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'WatchNotFound*'
            $other.WaitForExit(1000) | Should -BeFalse -Because 'the unrelated process must not be signalled'
        }
        finally { $other.Kill() }
    }
}

Describe 'A service of this session' {
    It 'is listed once, as InThisSession, and its status file goes away when it is stopped' {
        $src = "$root/local-src"
        New-Item -ItemType Directory $src -Force | Out-Null
        Register-MirrorTarget -Name here -Path "$root/here-replica" | Out-Null
        $w = Start-MirrorWatch $src -Target here -InitialSync
        try {
            $file = "$runDir/$PID-$($w.Id).json"
            Wait-Until { Test-Path $file } -Because 'the status file'
            $mine = @(Get-MirrorWatch | Where-Object { $_.Id -eq $w.Id -and $_.ProcessId -eq $PID })
            $mine.Count | Should -Be 1
            $mine[0].InThisSession | Should -BeTrue
            (Get-Content $file -Raw | ConvertFrom-Json).Targets[0].Name | Should -Be 'here'
        }
        finally { $w | Stop-MirrorWatch }
        Test-Path $file | Should -BeFalse
    }
}

Describe 'Periodic verify: Start-MirrorWatch -VerifyInterval' {
    It 'repairs a replica changed behind the service''s back' {
        $src = "$root/verify-src"
        New-Item -ItemType Directory "$src/d" -Force | Out-Null
        foreach ($n in 'a.txt', 'b.txt', 'd/c.txt') { [IO.File]::WriteAllText("$src/$n", "content of $n") }
        Register-MirrorTarget -Name verify -Path "$root/verify-replica" | Out-Null
        $w = Start-MirrorWatch $src -Target verify -InitialSync -VerifyInterval (New-TimeSpan -Seconds 2)
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -Because 'the initial sync'
            Assert-TreesEqual $src "$root/verify-replica"
            $before = (Get-MirrorWatch -Id $w.Id).Targets[0].VerifyCount

            # Drift no event reports: edits, a deletion and an extra file made directly in the replica.
            [IO.File]::WriteAllText("$root/verify-replica/a.txt", 'changed on the replica by hand')
            Remove-Item "$root/verify-replica/d/c.txt"
            [IO.File]::WriteAllText("$root/verify-replica/extra.txt", 'not in the source')

            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].VerifyCount -ge $before + 1 -and -not (Test-Path "$root/verify-replica/extra.txt") } -TimeoutSeconds 20 -Because 'a verify'
            Assert-TreesEqual $src "$root/verify-replica"
            $status = (Get-MirrorWatch -Id $w.Id).Targets[0]
            $status.LastVerify | Should -BeGreaterThan ([datetime]::UtcNow.AddSeconds(-20))
            $status.Errors | Should -Be 0
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'refuses a negative interval' {
        { Start-MirrorWatch "$root/verify-src" -Target verify -VerifyInterval (New-TimeSpan -Seconds -1) } | Should -Throw -ErrorId 'VerifyIntervalNegative*'
    }
}

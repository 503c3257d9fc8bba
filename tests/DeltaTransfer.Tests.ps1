BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    $src = "$root/src"
    New-OddTree $src
    Register-TestSshTarget -Name delta -RemotePath "$root/replica" -Extra @{ Rsync = 'Always' } | Out-Null
    Register-TestSshTarget -Name sftp -RemotePath "$root/replica-sftp" -Extra @{ Rsync = 'Never' } | Out-Null
}
AfterAll { Remove-MirrorTest }

Describe 'Sync-MirrorTree through the replica''s own rsync (protocol 27 sender over SSH.NET)' {
    It 'gives equal trees on the first push, awkward names, modes, times and symlinks included' {
        $r = Sync-MirrorTree -Path $src -Target delta
        Assert-TreesEqual $src "$root/replica"
        ($r | Where-Object { -not $_.IsDirectory -and $_.Bytes -gt 0 }).Transport | Select-Object -Unique | Should -Be 'Rsync'
        ($r | Where-Object RelativePath -eq 'nested/binary.bin').Action | Should -Be 'Copied'
        ($r | Where-Object RelativePath -eq 'link to plain').Action | Should -Be 'Copied'
    }

    It 'sends far fewer bytes than the file size after an insert in the middle of a 1 MiB file' {
        $data = [byte[]]::new(1MB); [Random]::new(5).NextBytes($data)
        [IO.File]::WriteAllBytes("$src/big.bin", $data)
        Sync-MirrorTree -Path $src -Target delta | Out-Null
        $ins = [byte[]]::new(1KB); [Random]::new(6).NextBytes($ins)
        [IO.File]::WriteAllBytes("$src/big.bin", [byte[]]($data[0..(512KB - 1)] + $ins + $data[512KB..(1MB - 1)]))
        $r = Sync-MirrorTree -Path $src -Target delta | Where-Object RelativePath -eq 'big.bin'
        $r.Action | Should -Be 'Updated'
        $r.LiteralBytes | Should -BeLessThan 32KB
        $r.MatchedBytes | Should -BeGreaterThan 900KB
        $r.Bytes | Should -Be $r.LiteralBytes
        Assert-TreesEqual $src "$root/replica"
    }

    It 'sends no data for a mere touch' {
        (Get-Item "$src/big.bin").LastWriteTimeUtc = [datetime]::new(2023, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
        $r = Sync-MirrorTree -Path $src -Target delta
        $r.Action | Should -Be 'MetadataOnly'
        $r.Bytes | Should -Be 0
        Assert-TreesEqual $src "$root/replica"
    }

    It 'removes extras with -Delete and keeps excluded ones' {
        New-Item -ItemType Directory "$root/replica/gone dir/sub" -Force | Out-Null
        Set-Content "$root/replica/gone dir/sub/x" 'x'
        Set-Content "$root/replica/stray.txt" 'stray'
        Set-Content "$root/replica/keep.tmp" 'excluded: never deleted'
        Sync-MirrorTree -Path $src -Target delta | Out-Null
        Test-Path "$root/replica/stray.txt" | Should -BeTrue
        $r = Sync-MirrorTree -Path $src -Target delta -Delete -Exclude '*.tmp'
        ($r | Where-Object Action -eq 'Deleted').RelativePath | Sort-Object | Should -Be @('gone dir', 'stray.txt')
        Test-Path "$root/replica/keep.tmp" | Should -BeTrue
        Remove-Item "$root/replica/keep.tmp"
        Assert-TreesEqual $src "$root/replica"
    }

    It 'falls back to per-entry planning over SFTP for -WhatIf, and with -Rsync Never' {
        Set-Content "$src/whatif.txt" 'w'
        Sync-MirrorTree -Path $src -Target delta -WhatIf | Should -BeNullOrEmpty
        Test-Path "$root/replica/whatif.txt" | Should -BeFalse
        $r = Sync-MirrorTree -Path $src -Target sftp
        ($r.Transport | Select-Object -Unique) | Should -Be 'Sftp'
        Assert-TreesEqual $src "$root/replica-sftp"
    }

    It 'updates a big file from a live event by delta, and a burst of events in one push' {
        Sync-MirrorTree -Path $src -Target delta -Delete | Out-Null
        $w = Start-MirrorWatch $src -Target delta -SettleMilliseconds 50
        try {
            $f = [IO.File]::Open("$src/big.bin", 'Append'); $f.Write([byte[]]::new(4096), 0, 4096); $f.Dispose()
            New-Item -ItemType Directory "$src/burst" | Out-Null
            1..300 | ForEach-Object { [IO.File]::WriteAllText("$src/burst/f$_", "file $_") }
            Wait-Until { (Test-Path "$root/replica/burst/f300") -and (Get-Item "$root/replica/big.bin").Length -eq (Get-Item "$src/big.bin").Length } -Because 'the live changes'
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].QueueLength -eq 0 } -Because 'an empty queue'
            $status = (Get-MirrorWatch -Id $w.Id).Targets[0]
            $status.Errors | Should -Be 0
            $status.BytesSent | Should -BeLessThan 64KB   # the 1 MiB file was not sent again
        }
        finally { $w | Stop-MirrorWatch }
        Assert-TreesEqual $src "$root/replica" -NoDirectoryTimes
    }
}

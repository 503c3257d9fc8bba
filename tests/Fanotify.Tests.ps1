# The fanotify backend end to end: chosen on request (or by Auto where permitted), named on the watch with its reason
# and in -Verbose, its events through Get-MirrorEvent, and a service mirroring a tree through it. Skipped, with the
# reason, where fanotify is not permitted (not Linux, no CAP_SYS_ADMIN, a kernel before 5.9, a filesystem without
# file handles).
BeforeDiscovery {
    Import-Module "$PSScriptRoot/../RealtimeMirror.psd1" -Force
    $script:FanotifyWhy = [RealtimeMirror.Engine.Watching.WatcherFactory]::FanotifyUnavailable([string[]] @([IO.Path]::GetTempPath()))
}
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    function New-Src([string] $Name) { $d = "$root/$Name"; New-Item -ItemType Directory $d -Force | Out-Null; $d }
}
AfterAll {
    Get-MirrorWatch | Where-Object InThisSession | Stop-MirrorWatch
    Remove-MirrorTest
}

Describe 'Start-MirrorWatch -Backend Fanotify' -Skip:($null -ne $script:FanotifyWhy) {
    It 'names the backend and why on the watch and in -Verbose' {
        $src = New-Src 'named'
        $w = Start-MirrorWatch $src -Backend Fanotify -Verbose 4>&1 | Tee-Object -Variable all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $w.Backend | Should -Be 'Fanotify'
        $w.BackendNote | Should -BeLike 'Fanotify as asked*'
        ($verbose.Message -join "`n") | Should -BeLike '*Fanotify as asked*'
        (Get-MirrorWatch -Id $w.Id).Backend | Should -Be 'Fanotify'
        $w | Stop-MirrorWatch
    }

    It 'is what Auto takes where it is permitted' {
        $src = New-Src 'auto'
        $w = Start-MirrorWatch $src
        $w.Backend | Should -Be 'Fanotify'
        $w.BackendNote | Should -BeLike 'Auto: Fanotify*'
        $w | Stop-MirrorWatch
    }

    It 'reports creates, a rename across directories, a chmod and deletes, and nothing from beside the tree' {
        $src = New-Src 'events'
        New-Item -ItemType Directory "$src/a", "$src/b", "$root/beside" | Out-Null
        $w = Start-MirrorWatch $src -Backend Fanotify -SettleMilliseconds 50
        [IO.File]::WriteAllText("$src/a/one.txt", 'one')
        [IO.File]::WriteAllText("$root/beside/noise.txt", 'not ours')
        $e1 = @(Get-MirrorEvent -Watch $w -Timeout 1.5)
        ($e1 | Where-Object RelativePath -eq 'a/one.txt').ChangeType | Should -Be 'Created'
        $e1.RelativePath | Should -Not -Contain 'noise.txt'
        Move-Item "$src/a/one.txt" "$src/b/two.txt"
        $e2 = @(Get-MirrorEvent -Watch $w -Timeout 1.5)
        $mv = $e2 | Where-Object ChangeType -eq 'Renamed'
        $mv.RelativePath | Should -Be 'b/two.txt'
        $mv.OldRelativePath | Should -Be 'a/one.txt'
        chmod 600 "$src/b/two.txt"
        (@(Get-MirrorEvent -Watch $w -Timeout 1.5) | Where-Object RelativePath -eq 'b/two.txt').ChangeType | Should -Be 'AttributeChanged'
        Remove-Item "$src/b" -Recurse
        $e4 = @(Get-MirrorEvent -Watch $w -Timeout 1.5)
        ($e4 | Where-Object RelativePath -eq 'b').ChangeType | Should -Be 'Deleted'
        $w | Stop-MirrorWatch
    }

    It 'mirrors a tree through it as a service, moves in and out of the tree included' {
        $src = New-Src 'svc'
        New-Item -ItemType Directory "$src/keep/deep/er", "$root/incoming/sub" -Force | Out-Null
        [IO.File]::WriteAllText("$src/keep/deep/er/f.txt", 'before')
        [IO.File]::WriteAllText("$root/incoming/sub/g.txt", 'moved in')
        Register-MirrorTarget -Name fan -Path "$root/fan-replica" | Out-Null
        $w = Start-MirrorWatch $src -Target fan -InitialSync -Backend Fanotify -SettleMilliseconds 50 -HaltThreshold 100%
        Wait-Until { Test-Path "$root/fan-replica/keep/deep/er/f.txt" } -Because 'the initial sync'
        New-Item -ItemType Directory "$src/new/a/b/c" -Force | Out-Null
        [IO.File]::WriteAllText("$src/new/a/b/c/leaf.txt", 'deep')
        Move-Item "$root/incoming" "$src/incoming"
        Move-Item "$src/keep" "$src/kept"
        [IO.File]::AppendAllText("$src/kept/deep/er/f.txt", ' and after')
        Move-Item "$src/new/a" "$root/gone-away"
        Wait-Until { (Test-Path "$root/fan-replica/incoming/sub/g.txt") -and -not (Test-Path "$root/fan-replica/new/a") -and
            (Test-Path "$root/fan-replica/kept/deep/er/f.txt") -and ((Get-MirrorWatch -Id $w.Id).Targets[0].QueueLength -eq 0) } -Because 'the live changes'
        try { Wait-TreesEqual $src "$root/fan-replica" -NoDirectoryTimes }
        finally { $w | Stop-MirrorWatch }
    }
}

Describe 'Start-MirrorWatch -Backend Fanotify where it is not permitted' -Skip:($null -eq $script:FanotifyWhy) {
    It 'is refused with the reason, and Auto says why it took inotify' {
        $src = New-Src 'refused'
        { Start-MirrorWatch $src -Backend Fanotify -ErrorAction Stop } | Should -Throw -ErrorId 'FanotifyNotAvailable*'
        $w = Start-MirrorWatch $src
        $w.Backend | Should -Not -Be 'Fanotify'
        $w | Stop-MirrorWatch
    }
}

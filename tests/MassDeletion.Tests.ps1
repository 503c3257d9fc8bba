# The halt before a mass deletion: a plan that would delete or overwrite too much of a replica is not executed.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    function New-Tree([string] $Name) {
        $d = "$root/$Name"
        foreach ($sub in 'big/a', 'big/b', 'c') {
            New-Item -ItemType Directory "$d/$sub" -Force | Out-Null
            foreach ($i in 1..10) { [IO.File]::WriteAllText("$d/$sub/f$i.txt", "$sub $i") }
        }
        [IO.File]::WriteAllText("$d/keep.txt", 'keep')
        $d
    }
}
AfterAll {
    Get-MirrorWatch | Stop-MirrorWatch
    Remove-MirrorTest
}

Describe 'Mass-deletion halt in the service' {
    It 'halts on rm -rf of most of the tree, applies nothing, keeps queueing, and deletes after Resume-MirrorTarget' {
        $src = New-Tree 'svc'
        Register-MirrorTarget -Name halt -Path "$root/halt-replica" | Out-Null
        $w = Start-MirrorWatch $src -Target halt -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' -and (Test-Path "$root/halt-replica/c/f10.txt") } -Because 'the initial sync'
            Remove-Item "$src/big" -Recurse -Force
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Halted' } -Because 'the halt'
            $status = (Get-MirrorWatch -Id $w.Id).Targets[0]
            $status.LastError | Should -BeLike "*halted*delete 23 *of the replica's 35 entries*"
            Test-Path "$root/halt-replica/big/a/f1.txt" | Should -BeTrue
            Test-Path "$root/halt-replica/big/b/f10.txt" | Should -BeTrue
            # Hints keep queueing while halted; nothing is applied.
            [IO.File]::WriteAllText("$src/new.txt", 'written while halted')
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].QueueLength -ge 2 } -Because 'the new change queued'
            Start-Sleep -Milliseconds 300
            Test-Path "$root/halt-replica/new.txt" | Should -BeFalse
            (Get-MirrorWatch -Id $w.Id).Targets[0].State | Should -Be 'Halted'

            Resume-MirrorTarget -Name halt -PassThru | Should -Be 'halt'
            Wait-Until { -not (Test-Path "$root/halt-replica/big") -and (Test-Path "$root/halt-replica/new.txt") } -Because 'the deletes after the resume'
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -Because 'an idle target after the resume'
            Test-Path "$root/halt-replica/big" | Should -BeFalse
            Test-Path "$root/halt-replica/c/f1.txt" | Should -BeTrue
            Wait-TreesEqual $src "$root/halt-replica" -NoDirectoryTimes
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'Resume-MirrorTarget reports a target that is not halted' {
        Resume-MirrorTarget -Name no-such-target -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'HaltedTargetNotFound*'
    }
}

Describe 'Mass-deletion halt in Sync-MirrorTree' {
    It 'writes an error and changes nothing without -Force, deletes with -Force' {
        $src = New-Tree 'once'
        Register-MirrorTarget -Name once -Path "$root/once-replica" | Out-Null
        Sync-MirrorTree -Path $src -Target once | Out-Null
        Remove-Item "$src/big" -Recurse -Force
        [IO.File]::WriteAllText("$src/keep.txt", 'changed')
        $out = @(Sync-MirrorTree -Path $src -Target once -Delete -ErrorVariable err -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 0
        $err[0].FullyQualifiedErrorId | Should -BeLike 'MassDeletionHalted*'
        "$($err[0])" | Should -BeLike '*delete 23 *35 entries*'
        Test-Path "$root/once-replica/big/a/f1.txt" | Should -BeTrue
        Get-Content "$root/once-replica/keep.txt" | Should -Be 'keep'

        $out = @(Sync-MirrorTree -Path $src -Target once -Delete -Force)
        @($out | Where-Object Action -eq Deleted).Count | Should -BeGreaterThan 0
        Test-Path "$root/once-replica/big" | Should -BeFalse
        Assert-TreesEqual $src "$root/once-replica" -NoDirectoryTimes
    }

    It 'takes a saved count threshold and a command-line override' {
        $src = New-Tree 'count'
        Register-MirrorTarget -Name count -Path "$root/count-replica" -HaltThreshold 3 | Out-Null
        (Get-MirrorTarget count).HaltThreshold | Should -Be '3'
        Sync-MirrorTree -Path $src -Target count | Out-Null
        Remove-Item "$src/c/f1.txt", "$src/c/f2.txt", "$src/c/f3.txt", "$src/c/f4.txt"
        Sync-MirrorTree -Path $src -Target count -Delete -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'MassDeletionHalted*'
        Test-Path "$root/count-replica/c/f1.txt" | Should -BeTrue
        Sync-MirrorTree -Path $src -Target count -Delete -HaltThreshold 50% -ErrorAction Stop | Out-Null
        Test-Path "$root/count-replica/c/f1.txt" | Should -BeFalse
        { Register-MirrorTarget -Name bad -Path "$root/bad" -HaltThreshold 'lots' -ErrorAction Stop } | Should -Throw
    }

    It 'always halts when the source root is emptied, however small the replica' {
        $src = "$root/tiny"
        New-Item -ItemType Directory $src | Out-Null
        [IO.File]::WriteAllText("$src/one.txt", '1')
        Register-MirrorTarget -Name tiny -Path "$root/tiny-replica" | Out-Null
        Sync-MirrorTree -Path $src -Target tiny | Out-Null
        Remove-Item "$src/one.txt"
        Sync-MirrorTree -Path $src -Target tiny -Delete -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        "$($err[0])" | Should -BeLike '*source root is empty*'
        Test-Path "$root/tiny-replica/one.txt" | Should -BeTrue
        Sync-MirrorTree -Path $src -Target tiny -Delete -Force | Out-Null
        Test-Path "$root/tiny-replica/one.txt" | Should -BeFalse
    }
}

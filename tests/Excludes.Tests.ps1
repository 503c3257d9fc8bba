# Excludes have one meaning on every transport, and rsync's is the reference: for the same rules, a local, an SFTP and
# an rsync target each end up with exactly the tree that the real `rsync -a --delete --exclude=... --exclude-from=FILE`
# makes, excluded names already on the replica included.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest

    function New-Files([string] $Base, [string[]] $Paths) {
        foreach ($p in $Paths) {
            $full = "$Base/$p"
            New-Item -ItemType Directory -Force (Split-Path $full -Parent) | Out-Null
            [IO.File]::WriteAllText($full, "content of $p")
        }
    }

    # One rule of each kind rsync has: anchored, directory-only, '**' across levels, '*' within one level, a character
    # class, a plain name that is a directory with files inside; and an exclude file with comments and a blank line.
    $script:rules = @('/x', 'cache/', 'a/**/z.log', 'doc/*.txt', '[0-9].tmp', 'ex-dir')
    $script:excludeFile = "$root/rules.exclude"
    Set-Content $excludeFile "# a comment line`n; another comment`n`n*.bak`n#hash.txt"

    $script:src = "$root/src"
    New-Files $src @(
        'x', 'sub/x',                                        # '/x': only the top-level x
        'cache/a.txt', 'lib/cache', 'lib/cache.d/ok.txt',    # 'cache/': the directory, not the file named cache
        'a/z.log', 'a/b/z.log', 'a/b/c/z.log', 'q/a/b/z.log', # 'a/**/z.log': at least one level between, at any depth
        'doc/one.txt', 'doc/sub/two.txt', 'deep/doc/three.txt', # 'doc/*.txt': '*' stays in its level, at any depth
        '1.tmp', '2.tmp', 'a.tmp', '12.tmp',                 # '[0-9].tmp'
        'ex-dir/f1', 'ex-dir/sub/f2', 'nocache/keep.txt',    # 'ex-dir': a directory and all below it
        'notes.bak', '#hash.txt', 'plain.txt'                # the file's '*.bak'; '#hash.txt' there is a comment
    )
    # What each replica holds before the sync: excluded names (rsync leaves them, even inside a directory the source
    # lacks) and extraneous ones (deleted).
    $script:seed = "$root/seed"
    New-Files $seed @('x', 'cache/old.txt', 'ex-dir/stale.txt', 'old.bak', 'extra.txt', 'gone/keep.bak', 'gone/drop.txt',
        'lib2/cache', 'doc/old.txt', 'sub/gone-dir/deep/old.bak')

    $script:reference = "$root/reference"
    bash -c "cp -a '$seed' '$reference'"
    $rsyncArgs = @('-a', '--delete') + ($rules | ForEach-Object { "--exclude=$_" }) + @("--exclude-from=$excludeFile", "$src/", "$reference/")
    & rsync @rsyncArgs
    if ($LASTEXITCODE) { throw "rsync failed: $LASTEXITCODE" }
}
AfterAll {
    Remove-MirrorTest
}

Describe 'Excludes, with rsync as the reference' {
    It 'the reference tree is what the rules say (the test''s own check of rsync)' {
        $got = @(Get-ChildItem -Recurse -File -Force $reference | ForEach-Object { $_.FullName.Substring($reference.Length + 1) } | Sort-Object -CaseSensitive)
        $got | Should -Be (@(
                '#hash.txt', '12.tmp', 'a.tmp', 'a/z.log', 'cache/old.txt', 'doc/old.txt', 'doc/sub/two.txt', 'ex-dir/stale.txt',
                'gone/keep.bak', 'lib/cache', 'lib/cache.d/ok.txt', 'nocache/keep.txt', 'old.bak', 'plain.txt',
                'sub/gone-dir/deep/old.bak', 'sub/x', 'x'
            ) | Sort-Object -CaseSensitive)
    }

    It 'a <Kind> target saved with the rules ends up with exactly rsync''s tree' -ForEach @(
        @{ Kind = 'local' }, @{ Kind = 'sftp' }, @{ Kind = 'rsync' }
    ) {
        $replica = "$root/replica-$Kind"
        bash -c "cp -a '$seed' '$replica'"
        $name = "excl-$Kind"
        $saved = @{ Exclude = $rules; ExcludeFile = $excludeFile; DeleteMode = 'Always' }
        switch ($Kind) {
            'local' { Register-MirrorTarget -Name $name -Path $replica @saved | Out-Null }
            'sftp' { Register-TestSshTarget -Name $name -RemotePath $replica -Extra ($saved + @{ Rsync = 'Never' }) | Out-Null }
            'rsync' { Register-TestSshTarget -Name $name -RemotePath $replica -Extra ($saved + @{ Rsync = 'Always' }) | Out-Null }
        }
        Sync-MirrorTree -Path $src -Target $name -ErrorAction Stop | Out-Null
        $diff = Compare-Object @(Get-TreeSignature $reference -NoDirectoryTimes) @(Get-TreeSignature $replica -NoDirectoryTimes)
        if ($diff) { throw "$Kind differs from rsync:`n" + (($diff | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" }) -join "`n") }
    }

    It 'the service applies the same saved rules at its initial sync and to live changes' {
        $svcSrc = "$root/svc-src"
        bash -c "cp -a '$src' '$svcSrc'"
        $replica = "$root/replica-svc"
        bash -c "cp -a '$seed' '$replica'"
        $expected = "$root/reference-svc"
        bash -c "cp -a '$seed' '$expected'"
        Register-TestSshTarget -Name excl-svc -RemotePath $replica -Extra @{ Exclude = $rules; ExcludeFile = $excludeFile; DeleteMode = 'Always'; Rsync = 'Always' } | Out-Null
        # -Exclude with a name that matches nothing: the service's default editor-noise excludes (*.tmp ...) stay out of the comparison.
        $w = Start-MirrorWatch $svcSrc -Target excl-svc -InitialSync -Exclude 'no-such-name' -SettleMilliseconds 50
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -TimeoutSeconds 60 -Because 'the initial sync'
            New-Files $svcSrc @('deep/doc/four.txt', 'doc/sub/five.txt', 'r/a/s/z.log', 'new-dir/cache/c.txt', '3.tmp')
            Remove-Item -Recurse "$svcSrc/lib"
            Wait-Until { (Test-Path "$replica/doc/sub/five.txt") -and -not (Test-Path "$replica/lib") -and (Get-MirrorWatch -Id $w.Id).Targets[0].QueueLength -eq 0 } -Because 'the live changes'
        }
        finally { $w | Stop-MirrorWatch }
        $rsyncArgs = @('-a', '--delete') + ($rules | ForEach-Object { "--exclude=$_" }) + @("--exclude-from=$excludeFile", "$svcSrc/", "$expected/")
        & rsync @rsyncArgs
        $diff = Compare-Object @(Get-TreeSignature $expected -NoDirectoryTimes) @(Get-TreeSignature $replica -NoDirectoryTimes)
        if ($diff) { throw "the service differs from rsync:`n" + (($diff | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" }) -join "`n") }
    }
}

# Attacks on confinement, end to end on local, SFTP and rsync targets: hard links planted in a replica, a source
# that swaps files and directories for symlinks in a loop, and a backup host whose login shell greets.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    function New-Src([string] $Name) { $d = "$root/$Name"; New-Item -ItemType Directory $d -Force | Out-Null; $d }
    # mode, owner, link count and content of a file, for "nothing changed" checks
    function Get-FileState([string] $Path) { "$(stat -c '%a %u:%g %h' $Path) $(Get-Content -Raw $Path)" }
    function Register-Trio([string] $Prefix) {
        Register-MirrorTarget -Name "$Prefix-local" -Path "$root/$Prefix-local" | Out-Null
        Register-TestSshTarget -Name "$Prefix-sftp" -RemotePath "$root/$Prefix-sftp" -Extra @{ Rsync = 'Never' } | Out-Null
        Register-TestSshTarget -Name "$Prefix-rsync" -RemotePath "$root/$Prefix-rsync" -Extra @{ Rsync = 'Always' } | Out-Null
        'local', 'sftp', 'rsync' | ForEach-Object { "$Prefix-$_" }
    }
    # rsync is the judge: names as bytes, content, mode, owner, times, link targets.
    function Get-Diff([string] $Source, [string] $Replica) { @(rsync -naic --delete "$Source/" "$Replica/") }
    # Names, kinds, content and link targets only: SFTP cannot set a symlink's own time.
    function Get-ContentDiff([string] $Source, [string] $Replica) { @(rsync -nrlic --delete "$Source/" "$Replica/") }
}
AfterAll {
    Get-MirrorWatch | Stop-MirrorWatch
    foreach ($s in Get-ChildItem "$root/sshd-*" -Directory -ErrorAction SilentlyContinue) {
        if (Test-Path "$s/sshd.pid") { kill (Get-Content "$s/sshd.pid") 2>$null }
    }
    Remove-MirrorTest
}

Describe 'Confinement: a hard link planted in a replica: local, SFTP and rsync targets' {
    BeforeAll {
        $targets = Register-Trio 'hl'
        # Each victim: same size and mtime as the source file, so only mode and owner would tell them apart.
        function Set-Trap([string] $Replica, [string] $Victim) {
            bash -c "printf 'secret!!!' > '$Victim' && chmod 600 '$Victim' && touch -d @1600000000 '$Victim' && rm -f '$Replica/f' && ln '$Victim' '$Replica/f'"
        }
    }

    It 'a one-shot sync replaces the linked name and leaves the other file''s content, mode and owner alone' {
        $src = New-Src 'hl-src1'
        bash -c "printf 'mirrored!' > '$src/f' && chmod 644 '$src/f' && touch -d @1600000000 '$src/f'"
        Sync-MirrorTree -Path $src -Target $targets -ErrorVariable err | Out-Null
        $err | Should -BeNullOrEmpty
        foreach ($t in $targets) { Set-Trap "$root/$t" "$root/victim-$t" }
        chown 4321:4321 "$src/f"; chmod 664 "$src/f"
        $r = Sync-MirrorTree -Path $src -Target $targets -ErrorVariable err
        $err | Should -BeNullOrEmpty
        foreach ($t in $targets) {
            Get-FileState "$root/victim-$t" | Should -Be '600 0:0 1 secret!!!' -Because "$t must not chmod, chown or write the victim"
            Get-Diff $src "$root/$t" | Should -BeNullOrEmpty
            (stat -c '%a %u:%g %h' "$root/$t/f") | Should -Be '664 4321:4321 1'
        }
        foreach ($t in $targets) { ($r | Where-Object { $_.Target -eq $t -and $_.RelativePath -eq 'f' }).Action | Should -Be 'Updated' }
        # A chmod alone, no trap: locally set in place; SFTP cannot count links, so it sends the file again, while rsync
        # rebuilds it from the replica's own blocks (a new inode, no data sent).
        chmod 640 "$src/f"
        $r = Sync-MirrorTree -Path $src -Target $targets | Where-Object RelativePath -eq 'f'
        ($r | Where-Object Target -eq 'hl-local').Action | Should -Be 'MetadataOnly'
        ($r | Where-Object Target -eq 'hl-sftp').Action | Should -Be 'Updated'
        ($r | Where-Object Target -eq 'hl-rsync').Action | Should -Be 'MetadataOnly'
        ($r | Where-Object Target -eq 'hl-rsync').Bytes | Should -Be 0
        foreach ($t in $targets) { Get-Diff $src "$root/$t" | Should -BeNullOrEmpty }
    }

    It 'the service replaces a name linked while it runs, on a chmod and on a touch' {
        $src = New-Src 'hl-src2'
        bash -c "printf 'mirrored!' > '$src/f' && chmod 644 '$src/f' && touch -d @1600000000 '$src/f'"
        $w = Start-MirrorWatch $src -Target $targets -InitialSync -SettleMilliseconds 50
        try {
            Wait-Until { @($targets | Where-Object { (Get-Diff $src "$root/$_").Count -eq 0 }).Count -eq 3 } -Because 'the initial sync'
            foreach ($t in $targets) { Set-Trap "$root/$t" "$root/victim2-$t" }
            chown 4321:4321 "$src/f"; chmod 660 "$src/f"
            Wait-Until { @($targets | Where-Object { (stat -c '%a %u' "$root/$_/f") -eq '660 4321' }).Count -eq 3 } -Because 'the chmod on every replica'
            foreach ($t in $targets) { Set-Trap "$root/$t" "$root/victim3-$t" }
            touch -d '@1700000000' "$src/f"
            Wait-Until { @($targets | Where-Object { (Get-Diff $src "$root/$_").Count -eq 0 }).Count -eq 3 } -Because 'the touch on every replica'
            foreach ($t in $targets) {
                Get-FileState "$root/victim2-$t" | Should -Be '600 0:0 1 secret!!!' -Because "$t must leave the chmod's victim alone"
                Get-FileState "$root/victim3-$t" | Should -Be '600 0:0 1 secret!!!' -Because "$t must leave the touch's victim alone"
                (stat -c %Y "$root/victim3-$t") | Should -Be 1600000000
            }
        }
        finally { $w | Stop-MirrorWatch }
    }
}

Describe 'Confinement: one-shot syncs against swapped and planted symlinks: local, SFTP and rsync targets' {
    It 'a source directory turned into a link to a victim and back, then a link planted in each replica: nothing outside changes' {
        $targets = Register-Trio 'os'
        $src = New-Src 'os-src'
        $victim = "$root/os-victim"
        New-Item -ItemType Directory $victim | Out-Null
        Set-Content "$victim/passwd" 'root:x:0:0'
        chmod 700 $victim
        New-Item -ItemType Directory "$src/eve/d" -Force | Out-Null
        Set-Content "$src/eve/d/x" 'x'
        Sync-MirrorTree -Path $src -Target $targets -Delete -ErrorVariable err | Out-Null
        $err | Should -BeNullOrEmpty
        # The issue's attack: the replica's eve/d becomes a link to the victim, then a directory holding passwd again.
        Remove-Item -Recurse -Force "$src/eve/d"
        New-Item -ItemType SymbolicLink -Path "$src/eve/d" -Target $victim | Out-Null
        Sync-MirrorTree -Path $src -Target $targets -Delete | Out-Null
        foreach ($t in $targets) { (Get-Item "$root/$t/eve/d").LinkTarget | Should -Be $victim }
        Remove-Item "$src/eve/d"
        New-Item -ItemType Directory "$src/eve/d" | Out-Null
        Set-Content "$src/eve/d/passwd" 'eve::0:0'
        chmod 777 "$src/eve/d"
        Sync-MirrorTree -Path $src -Target $targets -Delete -ErrorVariable err | Out-Null
        $err | Should -BeNullOrEmpty
        foreach ($t in $targets) { Get-Diff $src "$root/$t" | Should -BeNullOrEmpty }
        # From the backup host's side: a link planted where the replica has a directory.
        foreach ($t in $targets) { Remove-Item -Recurse -Force "$root/$t/eve/d"; New-Item -ItemType SymbolicLink -Path "$root/$t/eve/d" -Target $victim | Out-Null }
        Set-Content "$src/eve/d/passwd" 'eve::1:1'
        Set-Content "$src/eve/d/new" 'new'
        Sync-MirrorTree -Path $src -Target $targets -Delete -ErrorAction SilentlyContinue | Out-Null
        Sync-MirrorTree -Path $src -Target $targets -Delete -ErrorVariable err | Out-Null
        $err | Should -BeNullOrEmpty
        foreach ($t in $targets) { Get-Diff $src "$root/$t" | Should -BeNullOrEmpty -Because "$t replaces the planted link with the directory" }
        Get-Content "$victim/passwd" | Should -Be 'root:x:0:0'
        @(Get-ChildItem $victim).Count | Should -Be 1
        (stat -c %a $victim) | Should -Be '700'
    }
}

Describe 'Confinement: a source swapping files and directories for symlinks in a loop: local, SFTP and rsync targets' {
    It 'never puts the bytes a link points at on any replica, in the service or a one-shot sync' {
        $targets = Register-Trio 'sw'
        $src = New-Src 'sw-src'
        New-Item -ItemType Directory "$root/secretdir" | Out-Null
        Set-Content "$root/secret" 'TOPSECRET'
        Set-Content "$root/secretdir/x" 'TOPSECRET'
        New-Item -ItemType Directory "$src/d" | Out-Null
        Set-Content "$src/d/x" 'public'
        Set-Content "$src/f" 'public'
        $w = Start-MirrorWatch $src -Target $targets -InitialSync -SettleMilliseconds 20
        try {
            Wait-Until { @($targets | Where-Object { (Get-ContentDiff $src "$root/$_").Count -eq 0 }).Count -eq 3 } -Because 'the initial sync'
            # The attacker owns the source tree: f and d are real one moment and links to the secrets the next.
            $loop = Start-Job -ScriptBlock {
                param($s, $r)
                bash -c "end=`$((SECONDS+4)); while [ `$SECONDS -lt `$end ]; do rm -f '$s/f'; ln -s '$r/secret' '$s/f'; rm -f '$s/f'; echo public > '$s/f'; rm -rf '$s/d'; ln -s '$r/secretdir' '$s/d'; rm -f '$s/d'; mkdir '$s/d'; echo public > '$s/d/x'; done"
            } -ArgumentList $src, $root
            while ($loop.State -eq 'Running') {
                Sync-MirrorTree -Path $src -Target $targets -ErrorAction SilentlyContinue | Out-Null
            }
            $loop | Remove-Job -Force
            # End with the links in place: the replicas must then hold links, never what they point at.
            Remove-Item -Recurse -Force "$src/d", "$src/f"
            New-Item -ItemType SymbolicLink -Path "$src/f" -Target "$root/secret" | Out-Null
            New-Item -ItemType SymbolicLink -Path "$src/d" -Target "$root/secretdir" | Out-Null
            try { Wait-Until { @($targets | Where-Object { (Get-ContentDiff $src "$root/$_").Count -eq 0 }).Count -eq 3 } -TimeoutSeconds 30 -Because 'the links on every replica' }
            catch {
                foreach ($t in $targets) { Write-Host "$t`: $(Get-ContentDiff $src "$root/$t") / $((Get-MirrorWatch -Id $w.Id).Targets | Where-Object Target -eq $t | ForEach-Object { "$($_.State) $($_.LastError)" })" }
                throw
            }
            foreach ($t in $targets) {
                @(grep -rl TOPSECRET "$root/$t") | Should -BeNullOrEmpty -Because "$t must hold links, not the secrets"
                (Get-Item "$root/$t/d").LinkTarget | Should -Be "$root/secretdir"
            }
        }
        finally { $w | Stop-MirrorWatch }
    }
}

Describe 'Confinement: a backup host whose login shell prints a banner' {
    BeforeAll {
        # Second sshds with the main one's keys: one greets on every session (SFTP included, through sftp-server),
        # one only on commands (SFTP stays clean, the rsync exec gets the greeting).
        function Start-GreetingSshd([int] $Port, [string] $ForceCommand) {
            $state = "$root/sshd-$Port"
            New-Item -ItemType Directory $state -Force | Out-Null
            $main = Split-Path $env:RTM_SSH_KEY -Parent
            Copy-Item "$main/host_ed25519*", "$main/client_ed25519*" $state
            $env:RTM_SSHD_STATE = $state; $env:RTM_SSHD_PORT = $Port
            $env:RTM_SSHD_EXTRA_CONFIG = "Subsystem sftp /usr/lib/openssh/sftp-server`nForceCommand $ForceCommand"
            try { bash "$RepoRoot/tests/sshd/start-test-sshd.sh" | Out-Null }
            finally { Remove-Item env:RTM_SSHD_STATE, env:RTM_SSHD_PORT, env:RTM_SSHD_EXTRA_CONFIG }
        }
        Start-GreetingSshd 2392 'printf "Welcome to the backup box!\n"; exec sh -c "$SSH_ORIGINAL_COMMAND"'
        Start-GreetingSshd 2393 'case "$SSH_ORIGINAL_COMMAND" in */sftp-server) exec "$SSH_ORIGINAL_COMMAND";; esac; printf "Last login: yesterday\n"; exec sh -c "$SSH_ORIGINAL_COMMAND"'
        $src = New-Src 'banner-src'
        Set-Content "$src/f" 'x'
        function Register-Greeting([string] $Name, [int] $Port, [string] $Rsync, [switch] $NoConnect) {
            Register-TestSshTarget -Name $Name -RemotePath "$root/$Name" -Extra @{
                Port = $Port; KnownHostsFile = "$root/sshd-$Port/known_hosts"; Rsync = $Rsync; IoTimeoutSeconds = 3; NoConnect = [bool]$NoConnect
            } -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
            $err
        }
    }

    It 'refuses SFTP with the banner named, for good, instead of waiting and retrying' {
        $err = Register-Greeting 'greet-sftp' 2392 'Never'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetRefused,*'
        $err[0].Exception.Message | Should -BeLike '*login shell on 127.0.0.1 printed text before SFTP started ("Welcome to the backup box!")*quiet*'
        Test-Path "$root/greet-sftp" | Should -BeFalse
    }

    It 'refuses rsync with the banner named when only commands get it' {
        Register-Greeting 'greet-rsync' 2393 'Auto' -NoConnect | Should -BeNullOrEmpty
        Sync-MirrorTree -Path $src -Target 'greet-rsync' -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetRefused,*'
        $err[0].Exception.Message | Should -BeLike '*printed text before rsync started ("Last login: yesterday")*'
    }

    It 'a service whose target greets marks it Failed with that error, without retrying' {
        Register-Greeting 'greet-svc' 2392 'Never' -NoConnect | Out-Null
        $w = Start-MirrorWatch $src -Target 'greet-svc' -InitialSync
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].LastError -like '*printed text before SFTP started*' } -Because 'the refusal in the status'
            (Get-MirrorWatch -Id $w.Id).Targets[0].State | Should -Be 'Failed'
        }
        finally { $w | Stop-MirrorWatch }
    }
}

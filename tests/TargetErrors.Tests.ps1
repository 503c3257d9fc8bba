# Every error about a target names it, in the message a user reads and in TargetObject ("TARGET", or "TARGET:PATH" for
# one entry), with one error id per cause: provoked for real over SFTP and rsync, from Sync-MirrorTree and from the
# service (its -Wait error stream and each target's LastError).
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest

    $src = "$root/src"
    New-Item -ItemType Directory "$src/d" -Force | Out-Null
    Set-Content "$src/d/a.txt" 'a'
    Set-Content "$src/b.txt" 'b'

    # A second loopback sshd with the main one's keys, whose sessions a test may kill.
    $state = "$root/sshd-2341"
    New-Item -ItemType Directory $state | Out-Null
    Copy-Item "$(Split-Path $env:RTM_SSH_KEY -Parent)/host_ed25519*", "$(Split-Path $env:RTM_SSH_KEY -Parent)/client_ed25519*" $state
    $env:RTM_SSHD_STATE = $state; $env:RTM_SSHD_PORT = 2341
    try { bash "$RepoRoot/tests/sshd/start-test-sshd.sh" | Out-Null }
    finally { Remove-Item env:RTM_SSHD_STATE, env:RTM_SSHD_PORT }
    function Stop-SshdSessions {
        bash -c "desc() { for c in `$(pgrep -P `$1); do echo `$c; desc `$c; done; }; kill -KILL `$(desc `$(cat '$state/sshd.pid')) 2>/dev/null; true"
    }

    # Registers (without connecting) an SSH target that fails in the way <Case> says.
    function Register-FailingTarget([string] $Name, [string] $Case, [string] $Rsync) {
        $extra = @{ Rsync = $Rsync; NoConnect = $true; Force = $true }
        switch ($Case) {
            'unreachable port' { $extra.Port = 1 }
            'refused authentication' {
                if (-not (Test-Path "$root/stranger")) { ssh-keygen -q -t ed25519 -N '' -f "$root/stranger" | Out-Null }
                $extra.KeyFile = "$root/stranger"
            }
            'host key mismatch' {
                if (-not (Test-Path "$root/other_host.pub")) { ssh-keygen -q -t ed25519 -N '' -f "$root/other_host" | Out-Null }
                Set-Content "$root/kh-wrong" "[127.0.0.1]:$($env:RTM_SSH_PORT) $((Get-Content "$root/other_host.pub") -replace ' [^ ]+$','')"
                $extra.KnownHostsFile = "$root/kh-wrong"
            }
            'a replica root that cannot be made' {
                Set-Content "$root/a-file" 'a file, not a directory'
                return Register-TestSshTarget -Name $Name -RemotePath "$root/a-file/replica" -Extra $extra
            }
        }
        Register-TestSshTarget -Name $Name -RemotePath "$root/r-$Name" -Extra $extra
    }

    function Assert-NamesTarget($Record, [string] $Target) {
        "$Record" | Should -BeLike "Target '$Target'*" -Because 'the message a user reads names the target'
        "$($Record.TargetObject)" | Should -BeLike "$Target*"
    }
}
AfterAll {
    Get-MirrorWatch | Stop-MirrorWatch
    bash -c "kill -KILL `$(cat '$state/sshd.pid') 2>/dev/null; true"
    Remove-MirrorTest
}

Describe 'Errors name their target' {
    It 'Sync-MirrorTree over <Rsync> rsync: <Case> is <Id>, naming the target' -ForEach @(
        foreach ($rsync in 'Never', 'Always') {
            @{ Rsync = $rsync; Case = 'unreachable port'; Id = 'TargetUnreachable'; Category = 'ConnectionError' }
            @{ Rsync = $rsync; Case = 'refused authentication'; Id = 'TargetRefused'; Category = 'AuthenticationError' }
            @{ Rsync = $rsync; Case = 'host key mismatch'; Id = 'TargetRefused'; Category = 'AuthenticationError' }
            @{ Rsync = $rsync; Case = 'a replica root that cannot be made'; Id = 'ReplicaRootUnavailable'; Category = 'ResourceUnavailable' }
        }
    ) {
        $name = "e-$($Case -replace '\W', '')-$Rsync"
        Register-FailingTarget $name $Case $Rsync | Out-Null
        $err = $null
        Sync-MirrorTree -Path $src -Target $name -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be "$Id,RealtimeMirror.Cmdlets.SyncMirrorTreeCommand"
        "$($err[0].CategoryInfo.Category)" | Should -Be $Category
        $err[0].TargetObject | Should -Be $name
        Assert-NamesTarget $err[0] $name
    }

    It 'Sync-MirrorTree over <Rsync> rsync: permission denied on the replica is SyncEntryFailed per entry, naming TARGET:PATH' -ForEach @(
        @{ Rsync = 'Never' }, @{ Rsync = 'Always' }
    ) {
        $name = "perm-$Rsync"
        Register-TestSshTarget -Name $name -RemotePath "$root/r-$name" -Extra @{ Rsync = $Rsync } | Out-Null
        Sync-MirrorTree -Path $src -Target $name | Out-Null
        $out = bash -c "chattr +i '$root/r-$name/d' 2>&1"
        if ($LASTEXITCODE) { Set-ItResult -Skipped -Because "chattr +i is not supported here ($out)"; return }
        try {
            Set-Content "$src/d/a.txt" "changed for $name"
            $err = $null
            Sync-MirrorTree -Path $src -Target $name -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
            $entry = @($err | Where-Object TargetObject -eq "$name`:d/a.txt")
            $entry.Count | Should -Be 1
            $entry[0].FullyQualifiedErrorId | Should -BeLike 'SyncEntryFailed,*'
            "$($entry[0])" | Should -BeLike "Target '$name': d/a.txt: *"
            "$($entry[0])" | Should -Match 'Permission denied|not permitted|did not confirm'
            foreach ($e in $err) { Assert-NamesTarget $e $name }
        }
        finally { bash -c "chattr -i '$root/r-$name/d' 2>/dev/null; true" }
    }

    It 'Sync-MirrorTree over <Rsync> rsync creates a remote path that does not exist yet, without an error' -ForEach @(
        @{ Rsync = 'Never' }, @{ Rsync = 'Always' }
    ) {
        $name = "deep-$Rsync"
        Register-TestSshTarget -Name $name -RemotePath "$root/not/there/yet-$Rsync" -Extra @{ Rsync = $Rsync; NoConnect = $true } | Out-Null
        $err = $null
        Sync-MirrorTree -Path $src -Target $name -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err | Should -BeNullOrEmpty
        Assert-TreesEqual $src "$root/not/there/yet-$Rsync" -NoDirectoryTimes
    }

    It 'Sync-MirrorTree over <Rsync> rsync: a connection dropped mid-run is TargetUnreachable, naming the target' -ForEach @(
        @{ Rsync = 'Never' }, @{ Rsync = 'Always' }
    ) {
        $big = "$root/big-$Rsync"
        New-Item -ItemType Directory $big -Force | Out-Null
        1..20 | ForEach-Object { bash -c "head -c 1M /dev/urandom > '$big/f$_.bin'" }
        $name = "drop-$Rsync"
        # Held to 2 MiB/s, the 20 MiB take about 10 s: the kill lands mid-run.
        Register-TestSshTarget -Name $name -RemotePath "$root/r-$name" -Extra @{ Port = 2341; KnownHostsFile = "$state/known_hosts"; Rsync = $Rsync; BandwidthLimit = 2048 } | Out-Null
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$RepoRoot/RealtimeMirror.psd1'; Sync-MirrorTree -Path '$big' -Target $name -ErrorVariable e -ErrorAction SilentlyContinue | Out-Null; `$e")
        $async = $ps.BeginInvoke()
        Wait-Until { @(Get-ChildItem "$root/r-$name" -Filter '*.bin' -ErrorAction SilentlyContinue).Count -ge 2 } -TimeoutSeconds 30 -Because 'the transfer under way'
        Stop-SshdSessions
        $err = @($ps.EndInvoke($async))
        $ps.Dispose()
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetUnreachable,*'
        $err[0].TargetObject | Should -Be $name
        Assert-NamesTarget $err[0] $name
        "$($err[0])" | Should -Not -Match '\(Client not connected\.\) \(Client not connected\.\)' -Because 'one reason is said once'
    }

    It 'the service over <Rsync> rsync: <Case> names the target in LastError and in its -Wait error' -ForEach @(
        foreach ($rsync in 'Never', 'Always') {
            @{ Rsync = $rsync; Case = 'refused authentication'; Id = 'TargetRefused' }
            @{ Rsync = $rsync; Case = 'host key mismatch'; Id = 'TargetRefused' }
        }
    ) {
        $name = "svc-$($Case -replace '\W', '')-$Rsync"
        Register-FailingTarget $name $Case $Rsync | Out-Null
        $w = Start-MirrorWatch $src -Target $name
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Failed' } -Because 'the target refused for good'
            (Get-MirrorWatch -Id $w.Id).Targets[0].LastError | Should -BeLike "Target '$name'*"
        }
        finally { $w | Stop-MirrorWatch }
        # In the foreground the refusal is written (then the service stops: every target is refused).
        $r = Invoke-ChildPwsh @"
`$errs = @()
try { Start-MirrorWatch '$src' -Target $name -Wait -ErrorVariable +errs -ErrorAction SilentlyContinue | Out-Null } catch { `$errs += `$_ }
@{ Records = @(`$errs | ForEach-Object { @{ Id = `$_.FullyQualifiedErrorId; TargetObject = "`$(`$_.TargetObject)"; Text = "`$_" } }) }
"@
        $refusal = @($r.Records | Where-Object Id -like "$Id,*")
        $refusal.Count | Should -BeGreaterThan 0
        $refusal[0].TargetObject | Should -Be $name
        $refusal[0].Text | Should -BeLike "Target '$name'*"
        @($r.Records | Where-Object Id -like 'SyncEntryFailed,*') | Should -BeNullOrEmpty -Because 'a refused connection is not an entry failure'
        @($r.Records | Where-Object Id -like 'AllTargetsFailed,*')[0].Text | Should -BeLike "*$name*"
    }

    It 'the service over <Rsync> rsync: an unreachable host and a dropped connection name the target in LastError' -ForEach @(
        @{ Rsync = 'Never' }, @{ Rsync = 'Always' }
    ) {
        $name = "svc-down-$Rsync"
        Register-FailingTarget $name 'unreachable port' $Rsync | Out-Null
        $w = Start-MirrorWatch $src -Target $name
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Retrying' } -Because 'retrying an unreachable host'
            (Get-MirrorWatch -Id $w.Id).Targets[0].LastError | Should -BeLike "Target '$name': cannot reach 127.0.0.1:1*"
        }
        finally { $w | Stop-MirrorWatch }

        $name = "svc-drop-$Rsync"
        $svc = "$root/svc-drop-src-$Rsync"
        New-Item -ItemType Directory $svc -Force | Out-Null
        Register-TestSshTarget -Name $name -RemotePath "$root/r-$name" -Extra @{ Port = 2341; KnownHostsFile = "$state/known_hosts"; Rsync = $Rsync; BandwidthLimit = 1024 } | Out-Null
        $w = Start-MirrorWatch $svc -Target $name -SettleMilliseconds 50
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -Because 'connected'
            1..10 | ForEach-Object { bash -c "head -c 1M /dev/urandom > '$svc/f$_.bin'" }
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Syncing' } -Because 'a batch in flight'
            Start-Sleep -Milliseconds 500
            Stop-SshdSessions
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].LastError } -Because 'the lost connection reported'
            (Get-MirrorWatch -Id $w.Id).Targets[0].LastError | Should -BeLike "Target '$name'*"
        }
        finally { $w | Stop-MirrorWatch }
    }

    It 'the service: permission denied on a local replica names TARGET:PATH in LastError' {
        Register-MirrorTarget -Name svc-perm -Path "$root/r-svc-perm" | Out-Null
        Sync-MirrorTree -Path $src -Target svc-perm | Out-Null
        $out = bash -c "chattr +i '$root/r-svc-perm/d' 2>&1"
        if ($LASTEXITCODE) { Set-ItResult -Skipped -Because "chattr +i is not supported here ($out)"; return }
        $w = Start-MirrorWatch $src -Target svc-perm -SettleMilliseconds 50
        try {
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].State -eq 'Idle' } -Because 'connected'
            Set-Content "$src/d/new.txt" 'new'
            Wait-Until { (Get-MirrorWatch -Id $w.Id).Targets[0].Errors -gt 0 } -Because 'the refused write'
            (Get-MirrorWatch -Id $w.Id).Targets[0].LastError | Should -BeLike "Target 'svc-perm': d*"
        }
        finally {
            $w | Stop-MirrorWatch
            bash -c "chattr -i '$root/r-svc-perm/d' 2>/dev/null; true"
            Remove-Item "$src/d/new.txt" -ErrorAction SilentlyContinue
        }
    }
}
